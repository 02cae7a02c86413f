import { afterEach, describe, expect, it } from "vitest";
import { runCli, startCli, stopCli, PROCESS_START_MS } from "../helpers/cli.js";
import { freePort } from "../helpers/net.js";
import { uniquePrefix } from "../helpers/redis.js";
import { waitFor } from "../helpers/wait.js";
import { startRedisServer, type OwnRedis } from "../helpers/redis-server.js";

/** Start-up during a Redis blip: CLI commands wait (REDIS_STARTUP_TIMEOUT_MS) instead of exiting 3 at once. */
let servers: OwnRedis[] = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  servers = [];
});

const logLines = (stderr: string) =>
  stderr
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe("start-up while Redis is not up yet", { timeout: 240_000 }, () => {
  it("worker, enqueue and serve keep trying (one log line per try) and succeed once Redis is there", async () => {
    const port = await freePort();
    const httpPort = await freePort();
    const env = {
      REDIS_URL: `redis://127.0.0.1:${port}`,
      QUEUE_PREFIX: uniquePrefix("startup"),
      PARTNERCENTRAL_ENDPOINT: "http://127.0.0.1:9",
      REDIS_STARTUP_TIMEOUT_MS: "60000",
      HTTP_AUTH_TOKENS: "startup-token-0123456789",
      HTTP_PORT: String(httpPort),
      HTTP_HOST: "127.0.0.1",
    };
    const worker = startCli(["worker"], env);
    const serve = startCli(["serve"], env);
    const enqueue = startCli(
      ["enqueue", "--json"],
      env,
      `${JSON.stringify({ catalog: "AWS", identifier: "pacinv-STARTUPWAIT01" })}\n`,
    );
    try {
      // Every command has tried at least twice and is still waiting (not exited 3).
      await waitFor(
        () =>
          [worker, serve, enqueue].every(
            (p) => (p.stderr().match(/Redis not reachable yet; retrying/g)?.length ?? 0) >= 2,
          ) || undefined,
        PROCESS_START_MS,
        "two logged tries of each command",
      );
      expect([worker, serve, enqueue].map((p) => p.child.exitCode)).toEqual([null, null, null]);

      servers.push(await startRedisServer({ port }));

      const enq = await enqueue.exited;
      expect(enq.code, enq.stderr).toBe(0);
      expect(JSON.parse(enq.stdout)).toMatchObject({ enqueued: 1 });
      const tries = logLines(enq.stderr).filter((l) => l.msg === "Redis not reachable yet; retrying");
      expect(tries[0]).toMatchObject({ attempt: 1, url: `redis://127.0.0.1:${port}`, timeoutMs: 60_000, level: 40 });
      expect(tries[0]!.retryInMs).toBeGreaterThan(0);
      expect(tries.map((t) => t.attempt)).toEqual(tries.map((_, i) => i + 1));

      await waitFor(
        () => worker.stderr().includes("worker started") || undefined,
        PROCESS_START_MS,
        "the worker to start",
      );
      await waitFor(
        async () =>
          (await fetch(`http://127.0.0.1:${httpPort}/readyz`).catch(() => undefined))?.status === 200 || undefined,
        PROCESS_START_MS,
        "serve to be ready",
      );
    } finally {
      for (const p of [worker, serve, enqueue]) await stopCli(p);
    }
    expect((await worker.exited).code).toBe(0);
    expect((await serve.exited).code).toBe(0);
  });

  it("with a short timeout and no Redis, exits 3 with the one line", async () => {
    const port = await freePort();
    const r = await runCli(["enqueue", "--catalog", "AWS", "--identifier", "pacinv-ABCDEFGHIJKLM"], {
      REDIS_URL: `redis://127.0.0.1:${port}`,
      REDIS_STARTUP_TIMEOUT_MS: "1000",
    });
    expect(r.code).toBe(3);
    const plain = r.stderr
      .trim()
      .split("\n")
      .filter((l) => !l.startsWith("{"));
    expect(plain).toEqual([expect.stringContaining(`cannot reach Redis at redis://127.0.0.1:${port}`)]);
    expect(logLines(r.stderr).length).toBeGreaterThanOrEqual(1);
    // 0: one try, nothing logged, only the line.
    const once = await runCli(["worker"], { REDIS_URL: `redis://127.0.0.1:${port}`, REDIS_STARTUP_TIMEOUT_MS: "0" });
    expect(once.code).toBe(3);
    expect(once.stderr.trim().split("\n")).toHaveLength(1);
  });
});
