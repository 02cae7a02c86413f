import type { AddressInfo } from "node:net";
import type { FastifyInstance } from "fastify";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Redis } from "ioredis";
import { buildHttpServer } from "../../src/http/build-http-server.js";
import { createProducer } from "../../src/producer/producer.js";
import { loadConfig } from "../../src/config/load-config.js";
import { createLogger } from "../../src/observability/logger.js";
import { deletePrefix, newRedis, REDIS_URL, uniquePrefix } from "../helpers/redis.js";

/**
 * The dashboard shows every request's data (metadata, ClientToken, correlationId) and Redis's host
 * details: no ingest token (HTTP_AUTH_TOKENS) opens it, only HTTP_ADMIN_TOKENS do, and without
 * them it is not served at all.
 */
const INGEST_A = "ingest-a-0123456789abcdef";
const INGEST_B = "ingest-b-fedcba9876543210";
const ADMIN = "admin-token-0123456789abcdef";
const PATHS = ["/admin/queues", "/admin/queues/api/queues", "/admin/queues/api/redis/stats"];

let redis: Redis;
beforeAll(() => {
  redis = newRedis();
});
afterAll(() => redis.disconnect());
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

async function serve(env: Record<string, unknown>): Promise<string> {
  const prefix = uniquePrefix("http-dashboard");
  const producer = createProducer({ redis, prefix });
  const config = loadConfig({}, { REDIS_URL, QUEUE_PREFIX: prefix, LOG_LEVEL: "silent", ...env });
  const app: FastifyInstance = await buildHttpServer({
    producer,
    redis,
    config,
    logger: createLogger({ level: "silent" }),
  });
  await app.listen({ port: 0, host: "127.0.0.1" });
  closers.push(async () => {
    await app.close();
    await producer.close();
    await deletePrefix(redis, prefix);
  });
  return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
}

const get = (base: string, path: string, token?: string) =>
  fetch(base + path, token ? { headers: { authorization: `Bearer ${token}` } } : {});

describe("the dashboard (/admin/queues)", () => {
  it("opens to admin tokens only: 401 without a token, 403 with every ingest token", async () => {
    const base = await serve({ HTTP_AUTH_TOKENS: `${INGEST_A},${INGEST_B}`, HTTP_ADMIN_TOKENS: ADMIN });
    for (const path of PATHS) {
      for (const [token, status] of [
        [undefined, 401],
        [INGEST_A, 403],
        [INGEST_B, 403],
        [`${ADMIN}x`, 401],
      ] as const) {
        const res = await get(base, path, token);
        expect(res.status, `${path} with ${token ?? "no token"}`).toBe(status);
        expect(res.headers.get("www-authenticate")).toContain("Bearer");
        const body = await res.text();
        expect(body).not.toContain("accept-invitation");
        expect(body).not.toContain("redis_version");
      }
    }
    const page = await get(base, "/admin/queues", ADMIN);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toMatch(/text\/html/);
    const api = await get(base, "/admin/queues/api/queues", ADMIN);
    expect(api.status).toBe(200);
    const queues = ((await api.json()) as { queues: Array<{ name: string; readOnlyMode: boolean }> }).queues;
    expect(queues.map((q) => q.name).sort()).toEqual(["accept-invitation", "invitation-outcomes"]);
    expect(queues.every((q) => q.readOnlyMode)).toBe(true);
    // And an admin token is no ingest token: it lacks the enqueue scope.
    const enqueue = await fetch(`${base}/v1/acceptances`, {
      method: "POST",
      headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
      body: JSON.stringify({ catalog: "AWS", identifier: "pacinv-DASHBOARD00001" }),
    });
    expect(enqueue.status).toBe(403);
    expect(enqueue.headers.get("www-authenticate")).toContain('error="insufficient_scope", scope="enqueue"');
  });

  it("needs a login or an admin token even under HTTP_AUTH_DISABLED; HTTP_DASHBOARD=false unmounts it", async () => {
    const withIngest = await serve({ HTTP_AUTH_TOKENS: INGEST_A });
    const open = await serve({ HTTP_AUTH_DISABLED: true });
    const off = await serve({ HTTP_AUTH_TOKENS: INGEST_A, HTTP_ADMIN_TOKENS: ADMIN, HTTP_DASHBOARD: false });
    for (const path of PATHS) {
      expect((await get(withIngest, path, INGEST_A)).status, path).toBe(403);
      expect((await get(open, path)).status, path).toBe(401);
      expect((await get(off, path, ADMIN)).status, path).toBe(404);
    }
    // The API itself is as it was.
    expect((await get(open, "/v1/acceptances/AWS.pacinv-DASHBOARD00001.x")).status).toBe(404);
  });
});
