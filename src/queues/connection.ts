import { Cluster, Redis, type RedisOptions } from "ioredis";
import { RedisUnavailableError } from "../errors/index.js";
import { redactUrl } from "../config/load-config.js";

/** A standalone Redis (or a Sentinel-managed one) or a Redis Cluster: every part accepts both. */
export type RedisConnection = Redis | Cluster;

/**
 * A Redis connection for BullMQ. `maxRetriesPerRequest: null` is what BullMQ requires for
 * blocking worker connections; producers keep it too so a Redis restart delays, not fails, adds.
 * With `cluster`, `url` names one seed node (credentials and TLS are taken from it) and an
 * ioredis Cluster is built; the hash-tagged QUEUE_PREFIX keeps every key in one slot.
 */
export function createRedis(url: string, options: RedisOptions & { cluster?: boolean } = {}): RedisConnection {
  const { cluster, ...redisOptions } = options;
  const base = { maxRetriesPerRequest: null, enableReadyCheck: true, ...redisOptions };
  if (!cluster) return new Redis(url, base);
  const u = new URL(url);
  return new Cluster([{ host: u.hostname, port: Number(u.port || 6379) }], {
    redisOptions: {
      ...base,
      ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
      ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
      ...(u.protocol === "rediss:" ? { tls: {} } : {}),
    },
  });
}

/** A second connection with the same options (WATCH state is per connection). */
export function duplicateConnection(connection: RedisConnection): RedisConnection {
  return connection instanceof Cluster ? connection.duplicate() : connection.duplicate();
}

/**
 * Fails fast with one clear error when Redis is not there, instead of BullMQ's endless
 * reconnect loop. Used at start-up by the CLI.
 */
export async function assertRedisReachable(url: string, timeoutMs = 2000): Promise<void> {
  const probe = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    connectTimeout: timeoutMs,
    retryStrategy: () => null,
    enableOfflineQueue: false,
    enableReadyCheck: false,
  });
  probe.on("error", () => {});
  try {
    await probe.connect();
    await probe.ping();
  } catch (cause) {
    throw new RedisUnavailableError(redactUrl(url), { cause });
  } finally {
    await probe.quit().catch(() => probe.disconnect());
  }
}
