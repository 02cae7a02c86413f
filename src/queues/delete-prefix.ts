import type { Redis } from "ioredis";

/**
 * Deletes every key under `prefix:` (both queues, limiter and stalled-check keys included) with
 * SCAN, never KEYS. For throw-away prefixes (the demo, tests); never point it at a live prefix.
 * Returns how many keys were removed.
 */
export async function deletePrefix(redis: Redis, prefix: string): Promise<number> {
  let cursor = "0";
  let removed = 0;
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1000);
    cursor = next;
    if (keys.length > 0) removed += await redis.del(...keys);
  } while (cursor !== "0");
  return removed;
}
