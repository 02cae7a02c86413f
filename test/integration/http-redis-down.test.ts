import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { Redis } from "ioredis";
import type { FastifyInstance } from "fastify";
import { buildHttpServer } from "../../src/http/build-http-server.js";
import { createProducer, type Producer } from "../../src/producer/producer.js";
import { loadConfig } from "../../src/config/load-config.js";
import { createLogger } from "../../src/observability/logger.js";
import { uniquePrefix } from "../helpers/redis.js";
import { waitFor } from "../helpers/wait.js";
import { expectProblem } from "../helpers/problem.js";
import { startRedisServer } from "../helpers/redis-server.js";

const TOKEN = "redis-down-token-0123456789";

let cleanup: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const fn of cleanup.reverse()) await fn();
  cleanup = [];
});

/**
 * The HTTP API in this process on a redis-server of the test's own (port `port`): the connection
 * retries every 50 ms and never gives up, as serve's does. Everything is closed after the test.
 */
async function startApi(port: number, label: string, overrides: Record<string, unknown>) {
  const url = `redis://127.0.0.1:${port}`;
  const redis = new Redis(url, { maxRetriesPerRequest: null, retryStrategy: () => 50 });
  redis.on("error", () => {});
  cleanup.push(() => redis.disconnect());
  const prefix = uniquePrefix(label);
  const producer: Producer = createProducer({ redis, prefix });
  cleanup.push(() => producer.close());
  const config = loadConfig(
    {},
    { REDIS_URL: url, QUEUE_PREFIX: prefix, HTTP_AUTH_TOKENS: TOKEN, LOG_LEVEL: "silent", ...overrides },
  );
  const app: FastifyInstance = await buildHttpServer({
    producer,
    redis,
    config,
    logger: createLogger({ level: "silent" }),
  });
  cleanup.push(() => app.close());
  await app.listen({ port: 0, host: "127.0.0.1" });
  return { redis, base: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}` };
}

describe("HTTP API when Redis goes away", () => {
  it("answers 503 with Retry-After (and /readyz 503) while Redis is down, and recovers when it is back", async () => {
    let server = await startRedisServer();
    const port = server.port;
    cleanup.push(() => server.stop());
    const { redis, base } = await startApi(port, "http-down", {
      HTTP_REDIS_TIMEOUT_MS: 500,
      HTTP_RETRY_AFTER_SECONDS: 3,
    });
    const headers = { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" };
    const post = (n: number) =>
      fetch(`${base}/v1/acceptances`, {
        method: "POST",
        headers,
        body: JSON.stringify({ catalog: "AWS", identifier: `pacinv-DOWN${String(n).padStart(9, "0")}` }),
      });

    expect((await post(1)).status).toBe(202);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);

    await server.stop();
    await waitFor(() => redis.status === "reconnecting" || undefined, 5000, "the connection to notice");

    const started = Date.now();
    const refused = await post(2);
    expect(refused.headers.get("retry-after")).toBe("3");
    expectProblem(
      { status: refused.status, headers: refused.headers, body: await refused.json() },
      "REDIS_UNAVAILABLE",
      {
        instance: "/v1/acceptances",
      },
    );
    const batch = await fetch(`${base}/v1/acceptances/batch`, {
      method: "POST",
      headers,
      body: JSON.stringify({ requests: [{ catalog: "AWS", identifier: "pacinv-DOWN000000003" }] }),
    });
    expectProblem({ status: batch.status, headers: batch.headers, body: await batch.json() }, "REDIS_UNAVAILABLE");
    const lookup = await fetch(`${base}/v1/acceptances/AWS.x.y`, { headers });
    expectProblem({ status: lookup.status, headers: lookup.headers, body: await lookup.json() }, "REDIS_UNAVAILABLE", {
      instance: "/v1/acceptances/AWS.x.y",
    });
    expect(lookup.headers.get("retry-after")).toBe("3");
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(503);
    // The readiness report, not a problem: probes read `checks`.
    expect(ready.headers.get("content-type")).toMatch(/^application\/json/);
    expect(await ready.json()).toEqual({
      status: "not-ready",
      checks: { redis: "down", queue: "unknown", memory: "unknown" },
    });
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect(Date.now() - started, "answers fast, without waiting for Redis").toBeLessThan(2000);

    server = await startRedisServer({ port });
    await waitFor(() => redis.status === "ready" || undefined, 5000, "the connection to come back");
    await waitFor(async () => (await post(4)).status === 202 || undefined, 5000, "a 202 after recovery");
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
  });

  it(
    "a Redis that is there but does not answer in time: 503 saying the " +
      "request may have been carried out, and sending it again finds it",
    async () => {
      const server = await startRedisServer();
      const port = server.port;
      cleanup.push(() => server.stop());
      const { redis, base } = await startApi(port, "http-slow", { HTTP_REDIS_TIMEOUT_MS: 300 });
      const headers = { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" };
      const post = (n: number) =>
        fetch(`${base}/v1/acceptances`, {
          method: "POST",
          headers,
          body: JSON.stringify({ catalog: "AWS", identifier: `pacinv-SLOW${String(n).padStart(9, "0")}` }),
        });
      cleanup.push(() => server.process.kill("SIGCONT"));

      // Frozen (a long script of someone else's, a VM pause): the connection stays up, nothing
      // answers. A POST first asks the backlog gate, whose count is cached for a second: a 202 just
      // before the freeze lets the next POST reach the enqueue (a slow machine may need a few goes;
      // when the gate's own count times out, nothing was sent, the answer says so, and the go is repeated).
      // Frozen past the gate's cached count (1 s): the POST's backlog count times out, nothing of it
      // was sent, and the answer says so.
      let n = 0;
      expect((await post(++n)).status).toBe(202);
      server.process.kill("SIGSTOP");
      await new Promise((r) => setTimeout(r, 1100));
      const gated = await post(++n);
      server.process.kill("SIGCONT");
      expectProblem({ status: gated.status, headers: gated.headers, body: await gated.json() }, "REDIS_UNAVAILABLE", {
        detail: expect.stringContaining("nothing was done"),
      });

      let late: { status: number; headers: Headers; body: { detail?: string } } | undefined;
      for (let go = 0; go < 10 && !late; go++) {
        expect((await post(++n)).status).toBe(202);
        server.process.kill("SIGSTOP");
        const res = await post(++n);
        const body = (await res.json()) as { detail?: string };
        server.process.kill("SIGCONT");
        if (body.detail?.includes("nothing was done")) expect(res.status).toBe(503);
        else late = { status: res.status, headers: res.headers, body };
      }
      expectProblem(late!, "REDIS_UNAVAILABLE", { detail: expect.stringContaining("may have been carried out") });
      expect(redis.status).toBe("ready");
      // Redis ran what it was sent once it woke: the request was enqueued after all, and the same
      // request again finds it.
      const again = await post(n);
      expect(again.status).toBe(202);
      expect(await again.json()).toMatchObject({ duplicate: true });
    },
  );
});
