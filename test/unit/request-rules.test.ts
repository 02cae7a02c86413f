import { describe, expect, it } from "vitest";
import { z } from "zod";
import { validateRequest } from "../../src/producer/validate-request.js";
import { acceptJobDataSchema } from "../../src/contracts/job.js";
import { METADATA_MAX_DEPTH, metadataIssues } from "../../src/schemas/request-fields.js";
import { ruleOf, toFieldIssues } from "../../src/schemas/issues.js";
import { configSchema } from "../../src/schemas/config.js";
import { LIMIT_BOUNDS, limitSettingsIssues } from "../../src/ratelimit/limit-settings.js";
import { isRequestId, MAX_REQUEST_ID_LENGTH, REQUEST_ID_RULE } from "../../src/schemas/request-id.js";
import { cancelIssues } from "../../src/schemas/cancel.js";
import { newRequestJobId } from "../../src/request-record/identity.js";
import { cancelBodySchema } from "../../src/http/http-schemas.js";

const base = { catalog: "AWS", identifier: "pacinv-ABCDEFGHIJKLM" };
const nested = (depth: number): Record<string, unknown> => {
  let v: Record<string, unknown> = {};
  for (let i = 1; i < depth; i++) v = { a: v };
  return v;
};
const issuesOf = (input: unknown) => {
  const r = validateRequest(input);
  if (r.ok) throw new Error("expected the request to be refused");
  return r.issues;
};

describe("metadata rules (checked before anything recursive runs)", () => {
  it("bounds the depth: 32 levels pass, 33 and 5,000 are refused on the field, without overflowing the stack", () => {
    expect(validateRequest({ ...base, metadata: nested(METADATA_MAX_DEPTH) }).ok).toBe(true);
    expect(issuesOf({ ...base, metadata: nested(METADATA_MAX_DEPTH + 1) })).toEqual([
      { field: "metadata", rule: "must be at most 32 levels deep" },
    ]);
    const deep = JSON.parse(`${'{"a":'.repeat(5000)}1${"}".repeat(5000)}`);
    expect(issuesOf({ ...base, metadata: deep })).toEqual([
      { field: "metadata", rule: "must be at most 32 levels deep" },
    ]);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(issuesOf({ ...base, metadata: cyclic })).toEqual([
      { field: "metadata", rule: "must be at most 32 levels deep" },
    ]);
  });

  it("refuses __proto__ keys at any level instead of dropping them silently", () => {
    const top = JSON.parse('{"__proto__":{"admin":true},"ok":1}');
    expect(issuesOf({ ...base, metadata: top })).toEqual([
      { field: "metadata.__proto__", rule: '"__proto__" is not allowed as a key' },
    ]);
    const inner = JSON.parse('{"a":[{"b":{"__proto__":1}}]}');
    expect(issuesOf({ ...base, metadata: inner })).toEqual([
      { field: "metadata.a.0.b.__proto__", rule: '"__proto__" is not allowed as a key' },
    ]);
    // A key named constructor or prototype is plain data, kept as sent.
    const kept = validateRequest({ ...base, metadata: JSON.parse('{"constructor":{"prototype":{"x":1}}}') });
    expect(kept.ok && kept.request.metadata).toEqual({ constructor: { prototype: { x: 1 } } });
  });

  it("says which rule a value broke: non-finite numbers, non-JSON values, size", () => {
    expect(issuesOf({ ...base, metadata: JSON.parse('{"x":1e400}') })).toEqual([
      { field: "metadata.x", rule: expect.stringMatching(/^must be a finite number/) },
    ]);
    expect(issuesOf({ ...base, metadata: { d: new Date(0), u: undefined, f: () => 1, n: Number.NaN } })).toEqual([
      {
        field: "metadata.d",
        rule: "must be a JSON value (string, number, boolean, null, array or object), not a Date",
      },
      {
        field: "metadata.u",
        rule: "must be a JSON value (string, number, boolean, null, array or object), not undefined",
      },
      {
        field: "metadata.f",
        rule: "must be a JSON value (string, number, boolean, null, array or object), not function",
      },
      { field: "metadata.n", rule: expect.stringMatching(/^must be a finite number/) },
    ]);
    expect(issuesOf({ ...base, metadata: { blob: "x".repeat(5000) } })).toEqual([
      { field: "metadata", rule: "must be at most 4096 bytes as JSON" },
    ]);
    expect(
      issuesOf({ ...base, metadata: Object.fromEntries(Array.from({ length: 10_000 }, (_, i) => [`k${i}`, 1])) }),
    ).toEqual([{ field: "metadata", rule: "must be at most 4096 bytes as JSON" }]);
    expect(issuesOf({ ...base, metadata: [1] })).toEqual([{ field: "metadata", rule: "must be a JSON object" }]);
    expect(metadataIssues("not an object")).toEqual([]);
  });
});

describe("rules in our words for every zod issue code", () => {
  const ZOD_WORDS = /^(Invalid|Too (big|small)|Unrecognized|Expected|Required)/;
  it.each([
    ["invalid_type", z.object({ n: z.number() }), { n: "x" }, "must be a number"],
    ["too_small string", z.string().min(3), "ab", "must be at least 3 characters"],
    ["too_big array", z.array(z.number()).max(1), [1, 2], "must be at most 1 items"],
    ["too_small number", z.number().gt(0), 0, "must be > 0"],
    ["invalid_format", z.iso.datetime(), "yesterday", "must be a valid ISO-8601 date-time (2026-11-26T04:20:01.000Z)"],
    ["invalid_value", z.literal(1), 2, "must be 1"],
    ["invalid_enum", z.enum(["a", "b"]), "c", 'must be one of "a", "b"'],
    ["unrecognized_keys", z.strictObject({}), { x: 1 }, "unknown field(s): x"],
    [
      "invalid_union",
      z.union([z.string(), z.number()]),
      true,
      "must be a JSON value (string, finite number, boolean, null, array or object)",
    ],
    ["not_multiple_of", z.number().multipleOf(5), 3, "must be a multiple of 5"],
    ["invalid_key", z.record(z.string().min(2), z.number()), { a: 1 }, "has a key that is not allowed"],
    ["custom", z.number().refine(() => false), 1, "breaks a rule of its field"],
  ])("%s", (_name, schema, input, rule) => {
    const parsed = (schema as z.ZodType).safeParse(input);
    expect(parsed.success).toBe(false);
    const rules = parsed.error!.issues.map((i) => ruleOf(i));
    expect(rules).toContain(rule);
    for (const r of rules) expect(r).not.toMatch(ZOD_WORDS);
  });

  it("InvalidJob field issues (job data written by something else) say which rule, in our words", () => {
    const parsed = acceptJobDataSchema.safeParse({
      v: 2,
      request: { catalog: "AWS", identifier: "x", metadata: { x: Infinity } },
      enqueuedAt: "soon",
      throttleRequeues: -1,
    });
    const issues = toFieldIssues(parsed.error!);
    expect(issues.map((i) => i.field)).toEqual(
      expect.arrayContaining([
        "v",
        "request.identifier",
        "request.metadata.x",
        "clientToken",
        "idempotencyKey",
        "enqueuedAt",
        "throttleRequeues",
      ]),
    );
    for (const i of issues) expect(i.rule, i.field).not.toMatch(ZOD_WORDS);
  });
});

describe("limit settings: one set of rules for the CLI, setLimits and the config", () => {
  it("refuses rates below the floor, a floor above the ceiling, and out-of-range budgets", () => {
    expect(limitSettingsIssues({ rate: 0.0000001 })).toEqual(["rate: must be from 0.001 to 1000000 calls/s"]);
    expect(limitSettingsIssues({ rate: 1, minRate: 2 })).toEqual(["minRate: must be ≤ rate (1 calls/s)"]);
    expect(limitSettingsIssues({ minRate: 2 }, { rate: 1 })).toEqual(["minRate: must be ≤ rate (1 calls/s)"]);
    expect(limitSettingsIssues({ rate: 0.5 }, { rate: 5, minRate: 1 })).toEqual([]);
    expect(limitSettingsIssues({ retryMinPerMinute: 1e300 })).toEqual([
      "retryMinPerMinute: must be a whole number from 0 to 1000000",
    ]);
    expect(limitSettingsIssues({ rate: 0.001, minRate: 0.001, burst: 1_000_000 })).toEqual([]);
  });

  it("RATE_LIMIT_RPS and RATE_LIMIT_MIN_RPS have the same bounds as LIMIT_BOUNDS", () => {
    for (const name of ["RATE_LIMIT_RPS", "RATE_LIMIT_MIN_RPS"] as const) {
      const field = configSchema.shape[name];
      expect(field.safeParse(LIMIT_BOUNDS.minRate).success, name).toBe(true);
      expect(field.safeParse(LIMIT_BOUNDS.minRate / 2).success, name).toBe(false);
      expect(field.safeParse(LIMIT_BOUNDS.maxRate).success, name).toBe(true);
      expect(field.safeParse(LIMIT_BOUNDS.maxRate * 2).success, name).toBe(false);
    }
  });
});

describe("request ids and cancel arguments: one rule for the HTTP API, the library and the CLI", () => {
  it("takes our job ids up to 512 characters, and nothing that names one of BullMQ's own keys", () => {
    expect(isRequestId(newRequestJobId("AWS", "pacinv-ABCDEFGHIJKLM"))).toBe(true);
    expect(isRequestId(newRequestJobId("a".repeat(64), "pacinv-ABCDEFGHIJKLM"))).toBe(true);
    expect(isRequestId(`AWS.${"a".repeat(MAX_REQUEST_ID_LENGTH - 4)}`)).toBe(true);
    const job = newRequestJobId("AWS", "pacinv-ABCDEFGHIJKLM");
    for (const id of [
      `AWS.${"a".repeat(MAX_REQUEST_ID_LENGTH - 3)}`,
      `AWS.${"a".repeat(10_000)}`,
      "id",
      "meta",
      "events",
      "wait",
      "stalled-check",
      `${job}:lock`,
      `${job}:logs`,
      "",
      ".x",
      "AWS.",
      "AWS x.y",
      `${"a".repeat(65)}.x`,
    ]) {
      expect(isRequestId(id), id.slice(0, 40)).toBe(false);
    }
  });

  it(
    "names the field and the rule of a malformed id and of a " +
      "reason outside 1-256 characters, in the HTTP body's words",
    () => {
      const id = newRequestJobId("AWS", "pacinv-ABCDEFGHIJKLM");
      expect(cancelIssues(id, {})).toEqual([]);
      expect(cancelIssues(id, { reason: "x" })).toEqual([]);
      expect(cancelIssues(id, { reason: "x".repeat(256) })).toEqual([]);
      const reasonRule = { field: "reason", rule: "must be 1-256 characters" };
      expect(cancelIssues(id, { reason: "" })).toEqual([reasonRule]);
      expect(cancelIssues(id, { reason: "x".repeat(257) })).toEqual([reasonRule]);
      expect(cancelIssues(id, { reason: "x".repeat(300) })).toEqual([reasonRule]);
      expect(cancelIssues(id, { reason: 42 })).toEqual([{ field: "reason", rule: "must be a string" }]);
      expect(cancelIssues(`${id}:lock`, { reason: "" })).toEqual([
        { field: "requestId", rule: REQUEST_ID_RULE },
        reasonRule,
      ]);
      expect(REQUEST_ID_RULE).toMatch(/^must be a request id: .*no ":".*at most 512 characters$/);
      // The HTTP body's schema says the same of the same reasons.
      for (const reason of ["", "x".repeat(257)]) {
        const parsed = cancelBodySchema.safeParse({ reason });
        expect(parsed.success).toBe(false);
        expect(toFieldIssues(parsed.error!)).toEqual([reasonRule]);
      }
    },
  );
});
