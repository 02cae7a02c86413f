/**
 * HTTP 422 for a real idempotency conflict (409 before API 1.1.0): the real producer on real Redis behind the API, the
 * same key sent twice with different payloads, single and batch; nothing of the refused request
 * (or batch) is enqueued.
 */
import type { AddressInfo } from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import { buildHttpServer } from "../../src/http/build-http-server.js";
import { createProducer } from "../../src/producer/producer.js";
import { loadConfig } from "../../src/config/load-config.js";
import { createLogger } from "../../src/observability/logger.js";
import { deletePrefix, newRedis, REDIS_URL, uniquePrefix } from "../helpers/redis.js";
import { expectProblem } from "../helpers/problem.js";

const TOKEN = "conflict-token-0123456789";
const redis = newRedis();
const prefix = uniquePrefix("http409");
const producer = createProducer({ redis, prefix });
afterAll(async () => {
  await producer.close();
  await deletePrefix(redis, prefix);
  redis.disconnect();
});

describe("HTTP API: a real idempotency conflict", () => {
  it("answers 422 naming the key, the differing fields and the existing job; enqueues nothing more", async () => {
    const config = loadConfig(
      {},
      { REDIS_URL, QUEUE_PREFIX: prefix, HTTP_AUTH_TOKENS: TOKEN, HTTP_DASHBOARD: false, LOG_LEVEL: "silent" },
    );
    const app = await buildHttpServer({ producer, redis, config, logger: createLogger({ level: "silent" }) });
    await app.listen({ port: 0, host: "127.0.0.1" });
    const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    const post = async (path: string, body: unknown) => {
      const res = await fetch(url + path, {
        method: "POST",
        headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
    };
    try {
      const first = await post("/v1/acceptances", {
        catalog: "AWS",
        identifier: "pacinv-CONFLICT00001",
        idempotencyKey: "order-7",
        metadata: { n: 1 },
      });
      expect(first.status).toBe(202);
      const jobsBefore = await producer.queue.getJobCountByTypes("waiting", "delayed", "prioritized");

      const single = await post("/v1/acceptances", {
        catalog: "AWS",
        identifier: "pacinv-CONFLICT00002",
        idempotencyKey: "order-7",
        metadata: { n: 1 },
      });
      // 422, as draft-ietf-httpapi-idempotency-key-header says for a key reused with another payload.
      expect(single.status).toBe(422);
      expectProblem(single, "IDEMPOTENCY_CONFLICT", {
        instance: "/v1/acceptances",
        idempotencyKey: "order-7",
        differences: ["identifier"],
        existingJobId: first.body.jobId,
      });

      const batch = await post("/v1/acceptances/batch", {
        requests: [
          { catalog: "AWS", identifier: "pacinv-CONFLICT00003" },
          { catalog: "AWS", identifier: "pacinv-CONFLICT00001", idempotencyKey: "order-7", metadata: { n: 2 } },
        ],
      });
      expectProblem(batch, "IDEMPOTENCY_CONFLICT", {
        instance: "/v1/acceptances/batch",
        idempotencyKey: "order-7",
        differences: ["metadata"],
        index: 1,
        existingJobId: first.body.jobId,
      });
      // A key first used by an earlier request of the same batch: its position, no job id (none was written).
      const inBatch = await post("/v1/acceptances/batch", {
        requests: [
          { catalog: "AWS", identifier: "pacinv-CONFLICT00004", idempotencyKey: "order-8" },
          { catalog: "AWS", identifier: "pacinv-CONFLICT00005" },
          { catalog: "AWS", identifier: "pacinv-CONFLICT00006", idempotencyKey: "order-8" },
        ],
      });
      expectProblem(inBatch, "IDEMPOTENCY_CONFLICT", {
        instance: "/v1/acceptances/batch",
        idempotencyKey: "order-8",
        differences: ["identifier"],
        index: 2,
        firstIndex: 0,
      });
      expect(inBatch.body).not.toHaveProperty("existingJobId");
      expect(inBatch.body.detail).toContain("request #0 of this batch");
      // All or nothing: the batches' valid requests were not enqueued either.
      expect(await producer.queue.getJobCountByTypes("waiting", "delayed", "prioritized")).toBe(jobsBefore);
    } finally {
      await app.close();
    }
  });
});
