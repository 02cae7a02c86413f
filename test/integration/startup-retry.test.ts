/**
 * assertRedisReachable's tries against a port nobody listens on: each failed try is reported with
 * the wait before the next (startupRetryDelayMs: 250 ms doubling), and the next try comes no sooner.
 */
import { describe, expect, it } from "vitest";
import { assertRedisReachable, type StartupRetry } from "../../src/store/redis/connection.js";
import { freePort } from "../helpers/net.js";
import { startRedisServer } from "../helpers/redis-server.js";
import { RedisUnavailableError } from "../../src/errors/index.js";

describe("the start-up check of Redis", () => {
  it("backs off between tries: 250, 500, 1000, 2000 ms, each waited before the next try", async () => {
    const port = await freePort();
    const retries: StartupRetry[] = [];
    const enough = new Error("seen enough tries");
    // The timeout is far off, so no wait is cut short by it; the 4th report ends the check.
    const check = assertRedisReachable(`redis://127.0.0.1:${port}`, {
      timeoutMs: 120_000,
      tryTimeoutMs: 5000,
      onRetry: (retry) => {
        retries.push(retry);
        if (retries.length === 4) throw enough;
      },
    });
    await expect(check).rejects.toBe(enough);
    expect(retries.map((r) => [r.attempt, r.retryInMs])).toEqual([
      [1, 250],
      [2, 500],
      [3, 1000],
      [4, 2000],
    ]);
    // Each try came after the wait announced before it (a lower bound only: a loaded machine is late, never early).
    for (let i = 1; i < retries.length; i++) {
      expect(retries[i]!.elapsedMs - retries[i - 1]!.elapsedMs).toBeGreaterThanOrEqual(retries[i - 1]!.retryInMs - 5);
    }
    expect(retries.every((r) => r.url === `redis://127.0.0.1:${port}` && r.timeoutMs === 120_000)).toBe(true);
  });

  it("gives up on a Redis that accepts connections and never answers (SIGSTOP) within its timeout", async () => {
    const frozen = await startRedisServer();
    frozen.process.kill("SIGSTOP");
    try {
      // Without a bound on the PING itself, the first try waits for ever: the kernel accepts the
      // connection for the stopped process, and the reply never comes.
      const check = assertRedisReachable(frozen.url, {
        timeoutMs: 1500,
        tryTimeoutMs: 300,
      });
      const outcome = await Promise.race([
        check.then(
          () => "reachable",
          (err: unknown) => err,
        ),
        new Promise((resolve) => setTimeout(() => resolve("still waiting after 30 s"), 30_000)),
      ]);
      expect(outcome).toBeInstanceOf(RedisUnavailableError);
    } finally {
      frozen.process.kill("SIGCONT");
      await frozen.stop();
    }
  }, 60_000);
});
