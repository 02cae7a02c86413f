/**
 * The layering of src/ (README "Development", ../shared/style.md), checked by `npm test`
 * (`npm run lint:deps`). A module may import its own layer and the layers below it, never above:
 *
 *   schemas  ←  config, errors  ←  aws, queues, observability, ratelimit, request-record
 *            ←  producer, consumer, outcomes  ←  http  ←  app  ←  cli  (and src/index.ts)
 *
 * The emulator speaks AWS's wire and imports nothing of ours but schemas. Type-only imports
 * count: a layer that names a higher layer's types depends on it.
 */
const layer = (dirs) => `^src/(${dirs.join("|")})/`;
const L = {
  base: ["schemas"],
  support: ["config", "errors"],
  infra: ["aws", "queues", "observability", "ratelimit", "request-record"],
  core: ["producer", "consumer", "outcomes"],
  http: ["http"],
  app: ["app"],
  cli: ["cli"],
};
const above = (...names) => names.flatMap((n) => L[n]);
const upward = (name, from, higher) => ({
  name,
  severity: "error",
  comment: `${from.join(", ")} may not import ${higher.join(", ")} (imports flow one way: see .dependency-cruiser.cjs)`,
  from: { path: layer(from) },
  to: { path: [layer([...higher, "emulator"]), "^src/index\\.ts$"] },
});

module.exports = {
  forbidden: [
    { name: "no-circular", severity: "error", comment: "no import cycles", from: {}, to: { circular: true } },
    upward("schemas-are-the-base", L.base, above("support", "infra", "core", "http", "app", "cli")),
    upward("config-and-errors", L.support, above("infra", "core", "http", "app", "cli")),
    upward("infrastructure", L.infra, above("core", "http", "app", "cli")),
    upward("core", L.core, above("http", "app", "cli")),
    upward("http", L.http, above("app", "cli")),
    upward("app", L.app, above("cli")),
    {
      name: "emulator-speaks-the-wire",
      severity: "error",
      comment: "the emulator imports nothing of ours but schemas",
      from: { path: "^src/emulator/" },
      to: { path: "^src/", pathNot: "^src/(emulator|schemas)/" },
    },
    {
      name: "only-the-sdk-adapter-imports-the-aws-sdk",
      severity: "error",
      from: { path: "^src/", pathNot: "^src/aws/sdk-invitation-api\\.ts$" },
      to: { path: ["(^|/)node_modules/@aws-sdk/", "^@aws-sdk/"] },
    },
    {
      name: "pure-core-without-redis",
      severity: "error",
      comment: "contracts, errors, the AWS port, the decision core and the emulator know nothing of BullMQ or Redis",
      from: { path: ["^src/(schemas|config|errors|emulator)/", "^src/aws/", "^src/consumer/(process-job|invitation-action|decide|reconcile|pacing|outcome-events)\\.ts$"] },
      to: { path: ["(^|/)node_modules/(bullmq|ioredis|bullmq-otel)/", "^(bullmq|ioredis|bullmq-otel)$"] },
    },
    {
      name: "no-orphans",
      severity: "error",
      comment: "a module nothing imports is dead code (entry points excepted)",
      from: { orphan: true, path: "^src/", pathNot: ["^src/index\\.ts$", "^src/cli/main\\.ts$", "^src/emulator/cli\\.ts$", "\\.d\\.ts$"] },
      to: {},
    },
  ],
  options: {
    // TypeScript 7 has no JavaScript API; dependency-cruiser reads TypeScript with swc instead.
    parser: "swc",
    doNotFollow: { path: "node_modules" },
    exclude: { path: "^(dist|node_modules)/" },
    // NodeNext imports name `./x.js` for ./x.ts: tsconfig.json (module NodeNext) tells the resolver.
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { extensions: [".ts", ".js"] },
  },
};
