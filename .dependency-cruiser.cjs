/**
 * The layering of src/ (README "Development", ../shared/style.md), checked by `npm test`
 * (`npm run lint:deps`). A module may import its own layer and the layers below it, never above:
 *
 *   schemas  ←  aws  ←  operations  ←  contracts  ←  config, errors
 *            ←  store, ratelimit, observability, request-record, history  ←  outcomes  ←  producer, consumer, delivery
 *            ←  http  ←  app  ←  cli  (and src/index.ts)
 *
 * schemas are shapes (fields, invitation, connection, config); aws is the Partner Central port and
 * its SDK adapter; operations are the operations on an invitation, one module each, contract and
 * behaviour; contracts assemble the request, job and outcome contracts from them.
 *
 * The emulator speaks AWS's wire and imports nothing of ours but schemas. Type-only imports
 * count: a layer that names a higher layer's types depends on it.
 *
 * Packages: the rules below see imports of node_modules (they are resolved, not followed), and
 * test/unit/layering-planted.test.ts plants each forbidden import in the real tree to show that
 * `npm run lint:deps` fails on it.
 */
const layer = (dirs) => `^src/(${dirs.join("|")})/`;
const L = {
  base: ["schemas"],
  aws: ["aws"],
  operations: ["operations"],
  contracts: ["contracts"],
  support: ["config", "errors"],
  infra: ["store", "ratelimit", "observability", "request-record", "history"],
  outcomes: ["outcomes"],
  core: ["producer", "consumer", "delivery"],
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
/**
 * A package's files as dependency-cruiser resolves them (node_modules/<name>/…), or its name where
 * it cannot be resolved (a tree without node_modules).
 */
const pkg = (name) => `((^|/)node_modules/${name}/|^${name}(/|$))`;

module.exports = {
  forbidden: [
    { name: "no-circular", severity: "error", comment: "no import cycles", from: {}, to: { circular: true } },
    upward(
      "schemas-are-the-base",
      L.base,
      above("aws", "operations", "contracts", "support", "infra", "outcomes", "core", "http", "app", "cli"),
    ),
    upward(
      "aws-below-the-operations",
      L.aws,
      above("operations", "contracts", "support", "infra", "outcomes", "core", "http", "app", "cli"),
    ),
    upward(
      "operations-below-the-contracts",
      L.operations,
      above("contracts", "support", "infra", "outcomes", "core", "http", "app", "cli"),
    ),
    upward("contracts", L.contracts, above("support", "infra", "outcomes", "core", "http", "app", "cli")),
    upward("config-and-errors", L.support, above("infra", "outcomes", "core", "http", "app", "cli")),
    upward("infrastructure", L.infra, above("outcomes", "core", "http", "app", "cli")),
    upward("outcomes", L.outcomes, above("core", "http", "app", "cli")),
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
      name: "one-adapter-per-aws-client",
      severity: "error",
      comment:
        "each AWS SDK client is imported by its one adapter: the Partner Central Account client by " +
        "src/aws/sdk-invitation-api.ts; any other @aws-sdk package only under src/aws/ (one adapter file per client)",
      from: { path: "^src/", pathNot: "^src/aws/sdk-invitation-api\\.ts$" },
      to: { path: pkg("@aws-sdk/client-partnercentral-account") },
    },
    {
      name: "one-adapter-for-sqs",
      severity: "error",
      comment: "the SQS client is imported by its one adapter, src/aws/sqs-event-queue.ts (the event intake's queue)",
      from: { path: "^src/", pathNot: "^src/aws/sqs-event-queue\\.ts$" },
      to: { path: pkg("@aws-sdk/client-sqs") },
    },
    {
      name: "aws-sdk-only-in-adapters",
      severity: "error",
      comment: "no @aws-sdk package outside src/aws/ (its adapters)",
      from: { path: "^src/", pathNot: "^src/aws/" },
      to: { path: pkg("@aws-sdk") },
    },
    {
      name: "only-the-store-imports-ioredis",
      severity: "error",
      comment: "Redis connections, keys and scripts live in src/store (others take its RedisConnection type)",
      from: { path: "^src/", pathNot: "^src/store/" },
      to: { path: pkg("ioredis") },
    },
    {
      name: "only-the-history-imports-postgresql",
      severity: "error",
      comment:
        "PostgreSQL (the pg driver, pg-cursor, node-pg-migrate) lives in src/history; others take its HistoryPool type",
      from: { path: "^src/", pathNot: "^src/history/" },
      to: { path: [pkg("pg"), pkg("pg-cursor"), pkg("node-pg-migrate"), pkg("pg-[a-z-]+")] },
    },
    {
      name: "only-the-store-reads-bullmq-internals",
      severity: "error",
      comment:
        "BullMQ's public API (its package entry) is for the queue shells; its internal modules (scripts, " +
        "classes under dist/) only for src/store/redis",
      from: { path: "^src/", pathNot: "^src/store/redis/" },
      to: { path: ["(^|/)node_modules/bullmq/dist/(esm|cjs)/[^/]+/", "^bullmq/dist/"] },
    },
    {
      name: "pure-core-without-redis",
      severity: "error",
      comment:
        "contracts, errors, the AWS port, the request record, the store's port and in-memory store, the decision " +
        "core and the emulator know nothing of BullMQ or Redis",
      from: {
        path: [
          "^src/(schemas|config|errors|emulator|aws|operations|contracts|request-record)/",
          "^src/store/(request-store|memory-request-store|queue-location)\\.ts$",
          "^src/consumer/(process-job|decide|settle|run-end|pacing|sweep)\\.ts$",
          "^src/outcomes/(cancel|outcome-events)\\.ts$",
        ],
      },
      to: { path: [pkg("bullmq"), pkg("ioredis"), pkg("bullmq-otel"), "^src/store/redis/"] },
    },
    {
      name: "no-orphans",
      severity: "error",
      comment: "a module nothing imports is dead code (entry points excepted)",
      from: {
        orphan: true,
        path: "^src/",
        pathNot: ["^src/index\\.ts$", "^src/cli/main\\.ts$", "^src/emulator/cli\\.ts$", "\\.d\\.ts$"],
      },
      to: {},
    },
  ],
  options: {
    // TypeScript 7 has no JavaScript API; dependency-cruiser reads TypeScript with swc instead.
    parser: "swc",
    // Packages are resolved (so the rules above see them) but not followed into.
    doNotFollow: { path: "node_modules" },
    exclude: { path: "^dist/" },
    // NodeNext imports name `./x.js` for ./x.ts: tsconfig.json (module NodeNext) tells the resolver.
    tsConfig: { fileName: "tsconfig.json" },
    // Packages resolve through their `exports` as Node resolves an ESM import (node-pg-migrate has
    // no file at its `main`, only an `exports` map).
    enhancedResolveOptions: { extensions: [".ts", ".js"], exportsFields: ["exports"], conditionNames: ["import", "default"] },
  },
};
