import { loadConfig } from "../config/load-config.js";
import { assertRedisReachable } from "../queues/connection.js";
import { createLogger, type Logger } from "../observability/logger.js";
import type { Config } from "../schemas/config.js";

export interface Runtime {
  config: Config;
  logger: Logger;
}

/** Loads and validates config, makes the logger, and checks Redis answers before doing anything. */
export async function prepareRuntime(name: string, opts: { needsRedis?: boolean } = {}): Promise<Runtime> {
  const config = loadConfig();
  const logger = createLogger({ level: config.LOG_LEVEL, name });
  if (opts.needsRedis !== false) await assertRedisReachable(config.REDIS_URL);
  return { config, logger };
}
