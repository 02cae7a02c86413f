import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import type { FastifyInstance } from "fastify";
import { buildHttpServer } from "../../src/http/build-http-server.js";
import { createProducer, type Producer } from "../../src/producer/producer.js";
import { validateRequest } from "../../src/producer/validate-request.js";
import { loadConfig } from "../../src/config/load-config.js";
import { createLogger } from "../../src/observability/logger.js";
import { RequestValidationError } from "../../src/errors/index.js";
import { runCli } from "../helpers/cli.js";
import { deletePrefix, newRedis, REDIS_URL, uniquePrefix } from "../helpers/redis.js";
import { expectProblem } from "../helpers/problem.js";
import type { ErrorCode } from "../../src/http/problem-types.js";

/**
 * Property-based: generated bad inputs through the library, the HTTP API and the CLI. Every one is
 * refused with a field-level error in our words (never zod's, never a 500, never a crash), naming
 * the field that was broken.
 */
const TOKEN = "fuzz-token-0123456789abcdef";
const ZOD_WORDS = /^(Invalid|Too (big|small)|Unrecognized|Expected|Required)/;
const FIELDS = ["catalog", "identifier", "clientToken", "correlationId", "idempotencyKey", "metadata"] as const;
const valid = { catalog: "AWS", identifier: "pacinv-ABCDEFGHIJKLM" };

/** A bad request as JSON text (what HTTP and the CLI receive) and the field it breaks. */
interface BadInput {
  json: string;
  field: string;
}

const wrongType = fc.oneof(
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.string(), { maxLength: 3 }),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);
const deepMetadata = fc.integer({ min: 33, max: 5000 }).map((n) => `${'{"a":'.repeat(n)}1${"}".repeat(n)}`);
const keyPath = fc.array(fc.constantFrom("a", "b", "0", "x y"), { minLength: 0, maxLength: 5 });

const badInputs: fc.Arbitrary<BadInput> = fc.oneof(
  // A field of the wrong type.
  fc
    .tuple(fc.constantFrom(...FIELDS), wrongType)
    .map(([field, value]) => ({ json: JSON.stringify({ ...valid, [field]: value }), field })),
  // Strings that break a field's pattern or length.
  fc
    .string({ maxLength: 40 })
    .filter((s) => !/^pacinv-[A-Za-z0-9]{13}$/.test(s))
    .map((s) => ({ json: JSON.stringify({ ...valid, identifier: s }), field: "identifier" })),
  fc
    .string({ maxLength: 80 })
    .filter((s) => !/^[a-zA-Z0-9-]{1,64}$/.test(s))
    .map((s) => ({ json: JSON.stringify({ ...valid, catalog: s }), field: "catalog" })),
  fc
    .string({ minLength: 1, maxLength: 80 })
    .filter((s) => !/^[A-Za-z0-9-_]{1,64}$/.test(s))
    .map((s) => ({ json: JSON.stringify({ ...valid, clientToken: s }), field: "clientToken" })),
  fc
    .oneof(
      fc.constant(""),
      fc.string({ minLength: 257, maxLength: 300 }),
      fc.string({ minLength: 1, maxLength: 20 }).map((s) => `${s} ${s}`),
    )
    .map((s) => ({ json: JSON.stringify({ ...valid, idempotencyKey: s }), field: "idempotencyKey" })),
  // Unknown fields, __proto__ included.
  fc
    .string({ minLength: 1, maxLength: 12 })
    .filter((k) => !(FIELDS as readonly string[]).includes(k))
    .map((k) => ({
      json: JSON.stringify({ ...valid }).replace(/^\{/, () => `{${JSON.stringify(k)}:1,`),
      field: "(root)",
    })),
  // Metadata: too deep, __proto__ anywhere, numbers out of range, too big.
  deepMetadata.map((m) => ({
    json: `{"catalog":"AWS","identifier":"pacinv-ABCDEFGHIJKLM","metadata":${m}}`,
    field: "metadata",
  })),
  keyPath.map((path) => {
    const inner = path.reduceRight((acc, k) => `{${JSON.stringify(k)}:${acc}}`, '{"__proto__":{"polluted":true}}');
    return { json: `{"catalog":"AWS","identifier":"pacinv-ABCDEFGHIJKLM","metadata":${inner}}`, field: "metadata" };
  }),
  fc.constantFrom("1e400", "-1e999", "123e456").map((n) => ({
    json: `{"catalog":"AWS","identifier":"pacinv-ABCDEFGHIJKLM","metadata":{"n":${n}}}`,
    field: "metadata",
  })),
  fc
    .integer({ min: 4100, max: 20_000 })
    .map((n) => ({ json: JSON.stringify({ ...valid, metadata: { s: "é".repeat(n / 2) } }), field: "metadata" })),
  // Not an object at all.
  fc
    .oneof(fc.integer(), fc.string(), fc.constant(null), fc.array(fc.integer(), { maxLength: 3 }))
    .map((v) => ({ json: JSON.stringify(v), field: "(root)" })),
);

function expectFieldLevel(issues: Array<{ field: string; rule: string }>, field: string): void {
  expect(issues.length).toBeGreaterThan(0);
  expect(
    issues.some((i) => i.field === field || i.field.startsWith(`${field}.`)),
    JSON.stringify(issues),
  ).toBe(true);
  for (const i of issues) {
    expect(i.rule.length).toBeGreaterThan(0);
    expect(i.rule, i.field).not.toMatch(ZOD_WORDS);
  }
}

const redis = newRedis();
const dir = mkdtempSync(join(tmpdir(), "pci-fuzz-"));
let prefix: string;
let producer: Producer;
let app: FastifyInstance;
let base: string;
beforeAll(async () => {
  prefix = uniquePrefix("fuzz");
  producer = createProducer({ redis, prefix });
  const config = loadConfig({}, { REDIS_URL, QUEUE_PREFIX: prefix, HTTP_AUTH_TOKENS: TOKEN, LOG_LEVEL: "silent" });
  app = await buildHttpServer({ producer, redis, config, logger: createLogger({ level: "silent" }) });
  await app.listen({ port: 0, host: "127.0.0.1" });
  base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await app?.close();
  await producer?.close();
  await deletePrefix(redis, prefix);
  redis.disconnect();
  rmSync(dir, { recursive: true, force: true });
});

describe("generated bad inputs are refused with a field-level error, never a 500 or a crash", () => {
  it("library: validateRequest and producer.enqueue (1,000 inputs)", async () => {
    await fc.assert(
      fc.asyncProperty(badInputs, async ({ json, field }) => {
        const input: unknown = JSON.parse(json);
        const r = validateRequest(input);
        expect(r.ok).toBe(false);
        if (!r.ok) expectFieldLevel(r.issues, field);
        const thrown = await producer.enqueue(input).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(thrown).toBeInstanceOf(RequestValidationError);
      }),
      { numRuns: 1000 },
    );
    expect((await redis.keys(`${prefix}:*`)).filter((k) => !k.endsWith(":meta"))).toEqual([]);
  });

  // Through Fastify's inject: every hook, parser, route and error handler of the server, without a
  // socket per request (the malformed-body property below goes over real sockets, Node's parser
  // included). 1,000 inputs over fetch took 7-11 s on a loaded machine, over inject 3-4 s.
  it("HTTP API: POST /v1/acceptances and the batch (1,000 inputs)", async () => {
    await fc.assert(
      fc.asyncProperty(badInputs, fc.boolean(), async ({ json, field }, batch) => {
        const body = batch ? `{"requests":[${JSON.stringify(valid)},${json}]}` : json;
        const res = await app.inject({
          method: "POST",
          url: `/v1/acceptances${batch ? "/batch" : ""}`,
          headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
          payload: body,
        });
        const answer = res.json() as { issues: Array<{ field: string; rule: string; index?: number }> };
        expect(res.statusCode, body.slice(0, 200)).toBe(400);
        expectProblem({ statusCode: res.statusCode, headers: res.headers, body: answer }, "INVALID_REQUEST");
        expectFieldLevel(batch ? answer.issues.filter((i) => i.index === 1) : answer.issues, field);
      }),
      { numRuns: 1000 },
    );
  });

  it("HTTP API: malformed bodies and odd media types get problem details, never a 500", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ maxLength: 200 }),
        fc.constantFrom(
          "application/json",
          "application/json; charset=utf-8",
          "text/plain",
          "application/x-www-form-urlencoded",
        ),
        async (raw, type) => {
          const res = await fetch(`${base}/v1/acceptances`, {
            method: "POST",
            headers: { authorization: `Bearer ${TOKEN}`, "content-type": type },
            body: raw,
          });
          expect(res.status).toBeGreaterThanOrEqual(400);
          expect(res.status).toBeLessThan(500);
          const body = (await res.json()) as { code: ErrorCode };
          expectProblem({ status: res.status, headers: res.headers, body }, body.code, {
            instance: "/v1/acceptances",
          });
        },
      ),
      { numRuns: 200 },
    );
  });

  it("CLI: enqueue --file of 1,000 generated bad lines in one run names each line and its field", async () => {
    const samples = fc.sample(badInputs, { numRuns: 1000, seed: 42 });
    // One process for all of them: each line is refused on its own, with its number.
    const file = join(dir, "bad-requests.ndjson");
    writeFileSync(file, `${[JSON.stringify(valid), ...samples.map((s) => s.json)].join("\n")}\n`);
    const r = await runCli(
      ["enqueue", "--file", file, "--json"],
      { REDIS_URL, QUEUE_PREFIX: prefix, LOG_LEVEL: "silent" },
      undefined,
      120_000,
    );
    expect(r.code, r.stderr).toBe(2);
    const summary = JSON.parse(r.stdout) as {
      read: number;
      enqueued: number;
      duplicates: number;
      invalid: Array<{ line: number; issues: Array<{ field: string; rule: string }> }>;
    };
    expect(summary.read).toBe(1001);
    expect(summary.enqueued + summary.duplicates).toBe(1);
    expect(summary.invalid.map((i) => i.line)).toEqual(samples.map((_, i) => i + 2));
    for (const [i, bad] of summary.invalid.entries()) expectFieldLevel(bad.issues, samples[i]!.field);
  });
});
