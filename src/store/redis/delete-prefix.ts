import type { Redis } from "ioredis";
import type { RedisConnection } from "./connection.js";

/**
 * Deletes every key under `prefix:` (both queues, limiter, idempotency and stalled-check keys)
 * with SCAN, never KEYS; on a Cluster, on every master. For throw-away prefixes (the demo, tests);
 * never point it at a live prefix. Returns how many keys were removed.
 */
export async function deletePrefix(redis: RedisConnection, prefix: string): Promise<number> {
  const nodes: Redis[] =
    "nodes" in redis && typeof redis.nodes === "function" && redis.isCluster ? redis.nodes("master") : [redis as Redis];
  let removed = 0;
  for (const node of nodes) {
    let cursor = "0";
    do {
      const [next, keys] = await node.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1000);
      cursor = next;
      // One DEL per key (on a Cluster, keys of different slots cannot share a command), sent
      // together: a page costs one round trip, not a thousand.
      for (const count of await Promise.all(keys.map((key) => redis.del(key)))) removed += count;
    } while (cursor !== "0");
  }
  return removed;
}
