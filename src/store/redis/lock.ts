import { randomUUID } from "node:crypto";
import type { RedisConnection } from "./connection.js";
import { runScript } from "./lua-scripts.js";
import { SCRIPTS } from "./scripts.js";

/**
 * Runs `fn` holding a short Redis lock at `key` (SET NX PX `ms`, released by its token with
 * lua/release-lock.lua), waiting for it up to `ms`: a holder that died leaves a lock that has
 * expired by then, and the caller goes ahead.
 */
export async function withRedisLock(
  redis: RedisConnection,
  key: string,
  ms: number,
  fn: () => Promise<void>,
): Promise<void> {
  const token = randomUUID();
  for (let waited = 0; (await redis.set(key, token, "PX", ms, "NX")) !== "OK"; waited += 100) {
    if (waited >= ms) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  try {
    await fn();
  } finally {
    await runScript(redis, SCRIPTS.releaseLock, [key], [token]);
  }
}
