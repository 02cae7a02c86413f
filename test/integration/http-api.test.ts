import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { buildOpenApiDocument } from "../../src/http/openapi.js";
import type { AcceptancePort } from "../../src/http/http-context.js";
import { validateRequest } from "../../src/producer/validate-request.js";
import {
  BatchValidationError,
  ConfigError,
  IdempotencyConflictError,
  RequestValidationError,
} from "../../src/errors/index.js";
import { newRedis } from "../helpers/redis.js";
import { call, TOKEN_A, TOKEN_B, useHttpServers } from "../helpers/http-server.js";
import { expectProblem } from "../helpers/problem.js";

const ID = (n: number) => `pacinv-HTTP${String(n).padStart(9, "0")}`;
const valid = (n: number, extra: Record<string, unknown> = {}) => ({ catalog: "Sandbox", identifier: ID(n), ...extra });

let redis: Redis;
const { startServer, closeAll } = useHttpServers(() => redis);

beforeAll(() => {
  redis = newRedis();
});
afterEach(async () => {
  await closeAll();
});
afterAll(() => {
  redis.disconnect();
});

describe("HTTP API: enqueue", () => {
  it("202 for one request: the producer's result, and a second POST is a duplicate", async () => {
    const s = await startServer();
    const first = await call(s, "/v1/acceptances", { json: valid(1, { correlationId: "c-1" }) });
    expect(first.status).toBe(202);
    expect(first.body).toMatchObject({ duplicate: false, correlationId: "c-1" });
    expect(first.body.jobId).toContain(ID(1));
    expect(first.body.clientToken).toMatch(/^[A-Za-z0-9-_]+$/);
    expect(await s.producer.queue.getJob(first.body.jobId)).toBeDefined();
    const again = await call(s, "/v1/acceptances", { json: valid(1) });
    expect(again.status).toBe(202);
    expect(again.body).toMatchObject({ duplicate: true, jobId: first.body.jobId, clientToken: first.body.clientToken });
  });

  it("202 for a batch, with results in request order", async () => {
    const s = await startServer();
    const res = await call(s, "/v1/acceptances/batch", { json: { requests: [valid(3), valid(1), valid(2)] } });
    expect(res.status).toBe(202);
    expect(res.body.results.map((r: { jobId: string }) => r.jobId.split(".")[1])).toEqual([ID(3), ID(1), ID(2)]);
    expect(res.body.results.every((r: { duplicate: boolean }) => r.duplicate === false)).toBe(true);
  });

  it("400 with the library's field issues and message for an invalid request", async () => {
    const s = await startServer();
    const bad = { catalog: "AWS", identifier: "pacinv-short", colour: "red" };
    const res = await call(s, "/v1/acceptances", { json: bad });
    const v = validateRequest(bad);
    if (v.ok) throw new Error("fixture should be invalid");
    expect(res.status).toBe(400);
    const detail = new RequestValidationError(v.issues).message;
    expect(res.body).toEqual({
      type: "/problems/invalid-request",
      title: "Invalid request",
      status: 400,
      detail,
      instance: "/v1/acceptances",
      code: "INVALID_REQUEST",
      issues: v.issues,
      error: "INVALID_REQUEST",
      message: detail,
    });
    expectProblem(res, "INVALID_REQUEST", { instance: "/v1/acceptances" });
    expect(res.body.issues.map((i: { field: string }) => i.field).sort()).toEqual(["(root)", "identifier"]);
  });

  it("400 for a batch with invalid items names every bad index, field and rule, and enqueues nothing", async () => {
    const s = await startServer();
    const requests = [
      valid(1),
      { catalog: "AWS", identifier: "nope" },
      valid(2),
      { catalog: "A.B", identifier: ID(4), metadata: "x" },
    ];
    const res = await call(s, "/v1/acceptances/batch", { json: { requests } });
    expectProblem(res, "INVALID_REQUEST", { instance: "/v1/acceptances/batch" });
    const invalid = [1, 3].map((index) => {
      const v = validateRequest(requests[index]);
      return { index, issues: v.ok ? [] : v.issues };
    });
    expect(res.body.detail).toBe(new BatchValidationError(invalid).message);
    expect(res.body.issues).toEqual(invalid.flatMap((i) => i.issues.map((x) => ({ index: i.index, ...x }))));
    expect(new Set(res.body.issues.map((i: { index: number }) => i.index))).toEqual(new Set([1, 3]));
    expect(
      res.body.issues
        .filter((i: { index: number }) => i.index === 3)
        .map((i: { field: string }) => i.field)
        .sort(),
    ).toEqual(["catalog", "metadata"]);
    expect(await s.producer.queue.count()).toBe(0);
  });

  it("400 for a bad batch envelope, malformed JSON, and an empty JSON body", async () => {
    const s = await startServer({ HTTP_MAX_BATCH: 2 });
    for (const json of [
      { requests: [] },
      { requests: [valid(1), valid(2), valid(3)] },
      { requests: "all" },
      { reqs: [valid(1)] },
    ]) {
      const res = await call(s, "/v1/acceptances/batch", { json });
      expect(res.status, JSON.stringify(json)).toBe(400);
      expectProblem(res, "INVALID_REQUEST", { instance: "/v1/acceptances/batch" });
      expect(res.body.issues.length).toBeGreaterThan(0);
    }
    const tooMany = await call(s, "/v1/acceptances/batch", { json: { requests: [valid(1), valid(2), valid(3)] } });
    expect(tooMany.body.issues).toEqual([{ field: "requests", rule: "must be an array of 1-2 requests" }]);
    const malformed = await call(s, "/v1/acceptances", {
      body: '{"catalog": "AWS",',
      headers: { "content-type": "application/json" },
    });
    expectProblem(malformed, "INVALID_REQUEST", { issues: [{ field: "(root)", rule: "must be valid JSON" }] });
    const empty = await call(s, "/v1/acceptances", { body: "", headers: { "content-type": "application/json" } });
    expectProblem(empty, "INVALID_REQUEST", { issues: [{ field: "(root)", rule: "must be a JSON object" }] });
  });

  it("413 for a body over HTTP_BODY_LIMIT_BYTES, 415 for anything but application/json", async () => {
    const s = await startServer({ HTTP_BODY_LIMIT_BYTES: 2048 });
    const big = await call(s, "/v1/acceptances", { json: valid(1, { metadata: { blob: "x".repeat(4096) } }) });
    expectProblem(big, "PAYLOAD_TOO_LARGE", { instance: "/v1/acceptances" });
    const text = await call(s, "/v1/acceptances", { body: "catalog=AWS", headers: { "content-type": "text/plain" } });
    expectProblem(text, "UNSUPPORTED_MEDIA_TYPE", { instance: "/v1/acceptances" });
    const form = await call(s, "/v1/acceptances/batch", {
      body: "a=1",
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    expectProblem(form, "UNSUPPORTED_MEDIA_TYPE", { instance: "/v1/acceptances/batch" });
    const none = await call(s, "/v1/acceptances", { method: "POST" });
    expectProblem(none, "UNSUPPORTED_MEDIA_TYPE");
    const charset = await call(s, "/v1/acceptances", {
      json: valid(9),
      headers: { "content-type": "application/json; charset=utf-8" },
    });
    expect(charset.status).toBe(202);
  });

  it("422 with the key and the differing fields when the producer reports an idempotency conflict", async () => {
    const conflict = new IdempotencyConflictError(
      "order-42",
      ["identifier", "metadata"],
      "AWS.pacinv-ABCDEFGHIJKLM.x1",
    );
    const stub: AcceptancePort = {
      enqueue: async () => {
        throw conflict;
      },
      enqueueMany: async () => {
        throw conflict;
      },
    };
    const s = await startServer({}, stub);
    for (const [path, json] of [
      ["/v1/acceptances", valid(1)],
      ["/v1/acceptances/batch", { requests: [valid(1)] }],
    ] as const) {
      const res = await call(s, path, { json });
      expectProblem(res, "IDEMPOTENCY_CONFLICT", {
        instance: path,
        detail: conflict.message,
        idempotencyKey: "order-42",
        differences: ["identifier", "metadata"],
      });
    }
  });
});

describe("HTTP API: authentication", () => {
  it("401 without a token, with a wrong one or another scheme; both rotated tokens work", async () => {
    const s = await startServer();
    for (const authorization of [
      undefined,
      `Bearer ${TOKEN_A}x`,
      "Bearer ",
      `Basic ${Buffer.from("a:b").toString("base64")}`,
      TOKEN_A,
    ]) {
      const res = await call(s, "/v1/acceptances", {
        json: valid(1),
        token: null,
        headers: authorization === undefined ? {} : { authorization },
      });
      expectProblem(res, "UNAUTHORIZED", { instance: "/v1/acceptances" });
      expect(res.headers.get("www-authenticate"), String(authorization)).toBe(
        authorization === undefined
          ? 'Bearer realm="pc-invitations"'
          : 'Bearer realm="pc-invitations", error="invalid_token"',
      );
    }
    expectProblem(await call(s, "/v1/acceptances/x.y?a=1", { token: null }), "UNAUTHORIZED", {
      instance: "/v1/acceptances/x.y",
    });
    expect((await call(s, "/v1/acceptances", { json: valid(1), token: TOKEN_A })).status).toBe(202);
    expect((await call(s, "/v1/acceptances", { json: valid(2), token: TOKEN_B })).status).toBe(202);
    expect(
      (await call(s, "/v1/acceptances", { json: valid(3), headers: { authorization: `bearer   ${TOKEN_B}` } })).status,
    ).toBe(202);
  });

  it("refuses to start without tokens unless HTTP_AUTH_DISABLED=true", async () => {
    await expect(startServer({ HTTP_AUTH_TOKENS: undefined })).rejects.toBeInstanceOf(ConfigError);
    await expect(startServer({ HTTP_AUTH_TOKENS: undefined })).rejects.toThrow(
      /HTTP_AUTH_TOKENS.*HTTP_AUTH_DISABLED=true/,
    );
    const open = await startServer({ HTTP_AUTH_TOKENS: undefined, HTTP_AUTH_DISABLED: "true" });
    expect((await call(open, "/v1/acceptances", { json: valid(1), token: null })).status).toBe(202);
  });

  // The dashboard's tokens: test/integration/http-dashboard.test.ts.

  it("answers the dashboard's own API errors as problems too (about:blank), keeping bull-board's fields", async () => {
    const admin = "dashboard-admin-token-0001";
    const s = await startServer({ HTTP_ADMIN_TOKENS: admin });
    const unknown = await call(s, "/admin/queues/api/queues/nope/metrics", { token: admin });
    expect(unknown.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    expect(unknown.body).toMatchObject({
      type: "about:blank",
      title: "Not Found",
      status: 404,
      detail: "404 Not Found",
      instance: "/admin/queues/api/queues/nope/metrics",
      code: "NOT_FOUND",
      error: { key: expect.stringMatching(/QUEUE_NOT_FOUND/) },
    });
    expect(unknown.status).toBe(404);
    // Read-only: bull-board refuses a write with 405, a status none of our kinds has.
    const write = await call(s, "/admin/queues/api/queues/accept-invitation/pause", { method: "PUT", token: admin });
    expect(write.status).toBe(405);
    expect(write.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    expect(write.body).toMatchObject({ type: "about:blank", title: "Method Not Allowed", status: 405 });
    expect(write.body).not.toHaveProperty("code");
    // A static file it does not have: our own 404.
    expectProblem(await call(s, "/admin/queues/static/nope.js", { token: admin }), "NOT_FOUND");
  });

  it("has no dashboard with HTTP_DASHBOARD=false", async () => {
    const s = await startServer({ HTTP_DASHBOARD: "false" });
    expectProblem(await call(s, "/admin/queues"), "NOT_FOUND", { instance: "/admin/queues" });
  });
});

describe("HTTP API: backpressure, status, operations", () => {
  it("503 with Retry-After while the backlog is over HTTP_MAX_BACKLOG", async () => {
    const s = await startServer({ HTTP_MAX_BACKLOG: 1, HTTP_RETRY_AFTER_SECONDS: 7 });
    await s.producer.enqueueMany([valid(1), valid(2)]);
    for (const [path, json] of [
      ["/v1/acceptances", valid(3)],
      ["/v1/acceptances/batch", { requests: [valid(3)] }],
    ] as const) {
      const res = await call(s, path, { json });
      expectProblem(res, "BACKLOG_FULL", { instance: path });
      expect(res.headers.get("retry-after")).toBe("7");
    }
    expect(await s.producer.queue.count()).toBe(2);
  });

  it("GET /v1/acceptances/{id}: the waiting request, and 404 for an unknown id", async () => {
    const s = await startServer();
    const { body } = await call(s, "/v1/acceptances", { json: valid(5) });
    const res = await call(s, `/v1/acceptances/${encodeURIComponent(body.jobId)}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ id: body.jobId, state: "waiting", attempts: 0, outcome: null });
    const missing = await call(s, "/v1/acceptances/AWS.pacinv-NOPENOPENOPE0.x");
    expectProblem(missing, "NOT_FOUND", { instance: "/v1/acceptances/AWS.pacinv-NOPENOPENOPE0.x" });
    // Ids of 64-character catalogs are longer than the router's default parameter limit (100).
    const long = await call(s, `/v1/acceptances/${"C".repeat(64)}.pacinv-ABCDEFGHIJKLM.mwx2si8vfae35d`);
    expectProblem(long, "NOT_FOUND", { detail: expect.stringMatching(/^no request or outcome/) });
  });

  it("/healthz is 200; /readyz is 200 when Redis answers and 503 while the queue is paused", async () => {
    const s = await startServer();
    expect(await call(s, "/healthz", { token: null })).toMatchObject({ status: 200, body: { status: "ok" } });
    expect(await call(s, "/readyz", { token: null })).toMatchObject({
      status: 200,
      body: { status: "ready", checks: { redis: "ok", queue: "running" } },
    });
    await s.producer.queue.pause();
    expect(await call(s, "/readyz", { token: null })).toMatchObject({
      status: 503,
      body: { status: "not-ready", checks: { queue: "paused" } },
    });
    await s.producer.queue.resume();
  });

  it("puts a request id on every response, keeping a sane incoming one", async () => {
    const s = await startServer();
    const generated = await call(s, "/healthz");
    expect(generated.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    const kept = await call(s, "/v1/acceptances", { json: { nope: 1 }, headers: { "x-request-id": "req-123.abc" } });
    expectProblem(kept, "INVALID_REQUEST");
    expect(kept.headers.get("x-request-id")).toBe("req-123.abc");
    const replaced = await call(s, "/healthz", { headers: { "x-request-id": "x".repeat(300) } });
    expect(replaced.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    const nowhere = await call(s, "/nowhere?x=1", { token: null });
    expect(nowhere.headers.get("x-request-id")).toBeTruthy();
    expectProblem(nowhere, "NOT_FOUND", { instance: "/nowhere", detail: "no route GET /nowhere" });
    expect(
      (await call(s, "/v1/acceptances", { token: null, json: valid(1) })).headers.get("x-request-id"),
    ).toBeTruthy();
  });

  it("serves the OpenAPI document generated with its own HTTP_MAX_BATCH", async () => {
    const s = await startServer({ HTTP_MAX_BATCH: 50 });
    const res = await call(s, "/openapi.json", { token: null });
    expect(res.status).toBe(200);
    expect(res.body).toEqual(JSON.parse(JSON.stringify(buildOpenApiDocument({ maxBatch: 50 }))));
  });

  it("/metrics exposes the pc-invitations metrics, and they move with enqueues and queue contents", async () => {
    const s = await startServer();
    const scrape = async () => (await call(s, "/metrics", { token: null })).text;
    const sample = (text: string, series: string) => {
      const line = text.split("\n").find((l) => l.startsWith(`${series} `));
      return line === undefined ? undefined : Number(line.slice(series.length + 1));
    };
    const before = await scrape();
    for (const name of [
      "pci_requests_enqueued_total",
      "pci_outcomes_total",
      "pci_aws_call_duration_seconds",
      "pci_retries_total",
      "pci_throttles_total",
      "pci_shared_rate_limit",
      "pci_queue_jobs",
      "pci_queue_oldest_waiting_age_seconds",
      "pci_http_request_duration_seconds",
      "process_cpu_seconds_total",
      "nodejs_eventloop_lag_seconds",
    ]) {
      expect(before, name).toContain(`# TYPE ${name} `);
    }
    expect(sample(before, 'pci_queue_jobs{queue="accept-invitation",state="waiting"}')).toBe(0);

    // An old job first (the tail of BullMQ's wait list), then a new one: the age is the old one's.
    const raw = new Queue("accept-invitation", { connection: redis, prefix: s.prefix });
    await raw.add("accept", {}, { jobId: "old", timestamp: Date.now() - 60_000 });
    await raw.close();
    await call(s, "/v1/acceptances/batch", { json: { requests: [valid(1), valid(2)] } });
    await call(s, "/v1/acceptances", { json: valid(1) });

    const after = await scrape();
    expect(sample(after, 'pci_requests_enqueued_total{duplicate="false"}')).toBe(2);
    expect(sample(after, 'pci_requests_enqueued_total{duplicate="true"}')).toBe(1);
    expect(sample(after, 'pci_queue_jobs{queue="accept-invitation",state="waiting"}')).toBe(3);
    expect(sample(after, 'pci_queue_jobs{queue="invitation-outcomes",state="waiting"}')).toBe(0);
    const age = sample(after, 'pci_queue_oldest_waiting_age_seconds{queue="accept-invitation"}')!;
    expect(age).toBeGreaterThanOrEqual(59);
    expect(age).toBeLessThan(120);
    expect(after).toMatch(
      /pci_http_request_duration_seconds_count\{method="POST",route="\/v1\/acceptances\/batch",status_code="202"\} 1/,
    );
  });
});
