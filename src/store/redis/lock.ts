import { randomUUID } from "node:crypto";
import type { RedisConnection } from "./connection.js";
import { scheduleLockKey } from "./keys.js";
import { runScript } from "./lua-scripts.js";
import { SCRIPTS } from "./scripts.js";

/**
 * Runs `fn` holding a short Redis lock at `key` (SET NX PX `ms`, released by its token with
 * lua/release-lock.lua), waiting for it up to `ms`: a holder that died leaves a lock that has
 * expired by then, and the caller goes ahead.
 */
async function withRedisLock(redis: RedisConnection, key: string, ms: number, fn: () => Promise<void>): Promise<void> {
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

/** How long the discovery schedule's lock lasts (and is waited for), ms. */
const SCHEDULE_LOCK_MS = 10_000;

/**
 * Runs `fn` holding the discovery schedule's lock of `queueName` (one scheduler changes the fleet's
 * schedule at a time: processes started together agree on who sets it and who joins it).
 */
export function withScheduleLock(
  redis: RedisConnection,
  location: { prefix: string; queueName: string },
  fn: () => Promise<void>,
): Promise<void> {
  return withRedisLock(redis, scheduleLockKey(location.prefix, location.queueName), SCHEDULE_LOCK_MS, fn);
}
