import { request as httpRequest } from "node:http";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Redis } from "ioredis";
import { newRedis } from "../helpers/redis.js";
import { call, type Running, TOKEN_A, useHttpServers } from "../helpers/http-server.js";
import { expectProblem } from "../helpers/problem.js";

/**
 * The Idempotency-Key request header (draft-ietf-httpapi-idempotency-key-header) on
 * POST /v1/acceptances, and the Location of a 202: over real Redis and the real producer.
 */

const ID = (n: number) => `pacinv-IDEM${String(n).padStart(9, "0")}`;
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

const post = (s: Running, json: unknown, key?: string, path = "/v1/acceptances") =>
  call(s, path, { json, headers: key === undefined ? {} : { "idempotency-key": key } });

describe("POST /v1/acceptances: the Idempotency-Key header", () => {
  it(
    "is the request's key (an RFC 8941 string or unquoted), echoed as sent; " + "the 202 names the request in Location",
    async () => {
      const s = await startServer();
      const first = await post(s, valid(1), '"order-1"');
      expect(first.status).toBe(202);
      expect(first.body).toMatchObject({ duplicate: false, idempotencyKey: "order-1" });
      expect(first.headers.get("idempotency-key")).toBe('"order-1"');
      const location = first.headers.get("location");
      expect(location).toBe(`/v1/acceptances/${encodeURIComponent(first.body.jobId)}`);
      const status = await call(s, location!);
      expect(status.status).toBe(200);
      expect(status.body).toMatchObject({ id: first.body.jobId, state: "waiting" });

      // The same key unquoted, and in the body: the same request, and Location names it again.
      for (const again of [
        await post(s, valid(1), "order-1"),
        await post(s, valid(1, { idempotencyKey: "order-1" })),
      ]) {
        expect(again.status).toBe(202);
        expect(again.body).toMatchObject({ duplicate: true, jobId: first.body.jobId });
        expect(again.headers.get("location")).toBe(location);
      }
      // Both, equal: fine. An escaped quote inside the string is part of the key.
      expect((await post(s, valid(1, { idempotencyKey: "order-1" }), '"order-1"')).body.duplicate).toBe(true);
      const escaped = await post(s, valid(2), String.raw`"a\"b\\c"`);
      expect(escaped.status).toBe(202);
      expect(escaped.body.idempotencyKey).toBe(String.raw`a"b\c`);
      expect(await s.producer.queue.count()).toBe(2);
      // Without the header: no echo, and Location all the same.
      const plain = await post(s, valid(3));
      expect(plain.headers.get("idempotency-key")).toBeNull();
      expect(plain.headers.get("location")).toBe(`/v1/acceptances/${encodeURIComponent(plain.body.jobId)}`);
    },
  );

  it(
    "a key reused with another payload: 422 IDEMPOTENCY_CONFLICT (the draft's status), " +
      "the header echoed, nothing enqueued",
    async () => {
      const s = await startServer();
      const first = await post(s, valid(1), "order-2");
      expect(first.status).toBe(202);
      const reused = await post(s, valid(2), "order-2");
      expect(reused.status).toBe(422);
      expectProblem(reused, "IDEMPOTENCY_CONFLICT", {
        instance: "/v1/acceptances",
        idempotencyKey: "order-2",
        differences: ["identifier"],
        existingJobId: first.body.jobId,
      });
      expect(reused.headers.get("idempotency-key")).toBe("order-2");
      expect(reused.headers.get("location")).toBeNull();
      expect(await s.producer.queue.count()).toBe(1);
    },
  );

  it(
    "400 naming the header and the rule: the body's key rules, a malformed string, " +
      "a key the body contradicts, and on a batch",
    async () => {
      const s = await startServer();
      const SF =
        'must be a structured-field string ("…", RFC 8941, with \\" and \\\\ as its only escapes) or an unquoted key';
      const cases: Array<[key: string, rule: string, body?: unknown, path?: string]> = [
        ['"has space"', "must be printable ASCII without spaces"],
        ["k".repeat(257), "must be 1-256 characters"],
        ['""', "must be 1-256 characters; must be printable ASCII without spaces"],
        ["ключ", "must be printable ASCII without spaces"],
        ['"unterminated', SF],
        ['"a"b', SF],
        ['"bad\\escape"', SF],
        [
          "order-3",
          "must equal the body's idempotencyKey when both are given",
          valid(1, { idempotencyKey: "order-4" }),
        ],
        [
          "order-5",
          "is not accepted on a batch: give each request its own idempotencyKey in the body",
          { requests: [valid(1)] },
          "/v1/acceptances/batch",
        ],
      ];
      for (const [key, rule, body, path] of cases) {
        // fetch would refuse a non-Latin-1 header value: Node's client sends it as UTF-8 bytes.
        const res = /^[\x20-\x7e]*$/.test(key) ? await post(s, body ?? valid(1), key, path) : await rawPost(s, [key]);
        expectProblem(res, "INVALID_REQUEST", {
          instance: path ?? "/v1/acceptances",
          issues: [{ field: "idempotency-key", rule }],
        });
        expect(res.headers.get("location"), key).toBeNull();
      }
      // The draft: a client MUST NOT send more than one Idempotency-Key field.
      expectProblem(await rawPost(s, ["a", "b"]), "INVALID_REQUEST", {
        issues: [{ field: "idempotency-key", rule: "must be sent once" }],
      });
      expect(await s.producer.queue.count()).toBe(0);
    },
  );

  it("a batch's 202 has no Location: each result's jobId names its request", async () => {
    const s = await startServer();
    const res = await call(s, "/v1/acceptances/batch", { json: { requests: [valid(1), valid(2)] } });
    expect(res.status).toBe(202);
    expect(res.headers.get("location")).toBeNull();
    expect(res.headers.get("link")).toBeNull();
  });
});

/** A POST with the given Idempotency-Key field values, each sent as a field of its own, over Node's client. */
function rawPost(s: Running, keys: string[]): Promise<{ status: number; headers: Headers; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      `${s.base}/v1/acceptances`,
      {
        method: "POST",
        headers: {
          authorization: `Bearer ${TOKEN_A}`,
          "content-type": "application/json",
          "idempotency-key": keys.map((k) => Buffer.from(k, "utf8").toString("latin1")),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const headers = new Headers();
          for (const [k, v] of Object.entries(res.headers)) if (typeof v === "string") headers.set(k, v);
          resolve({ status: res.statusCode ?? 0, headers, body: JSON.parse(Buffer.concat(chunks).toString("utf8")) });
        });
      },
    );
    req.on("error", reject);
    req.end(JSON.stringify(valid(1)));
  });
}
