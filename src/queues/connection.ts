import { Redis, type RedisOptions } from "ioredis";
import { RedisUnavailableError } from "../errors/index.js";
import { redactUrl } from "../config/load-config.js";

/**
 * A Redis connection for BullMQ. `maxRetriesPerRequest: null` is what BullMQ requires for
 * blocking worker connections; producers keep it too so a Redis restart delays, not fails, adds.
 */
export function createRedis(url: string, options: RedisOptions = {}): Redis {
  return new Redis(url, { maxRetriesPerRequest: null, enableReadyCheck: true, ...options });
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
  });
  probe.on("error", () => {});
  try {
    await probe.connect();
    await probe.ping();
  } catch (cause) {
    throw new RedisUnavailableError(redactUrl(url), { cause });
  } finally {
    probe.disconnect();
  }
}
