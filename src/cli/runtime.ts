import { loadConfig } from "../config/load-config.js";
import { assertRedisReachable } from "../store/redis/connection.js";
import { createLogger, type Logger } from "../observability/logger.js";
import { CONFIG_DEFAULTS, type Config } from "../schemas/config.js";

export interface Runtime {
  config: Config;
  logger: Logger;
}

export interface RuntimeNeeds {
  /** Check that Redis answers before doing anything. @defaultValue true */
  needsRedis?: boolean;
  /**
   * Also check that Redis accepts writes (a full Redis fails at once with RedisFullError, exit 4):
   * every command that writes (enqueue, worker, outcomes, limits set). @defaultValue false
   */
  writes?: boolean;
}

/**
 * Loads and validates config, makes the logger, and checks Redis: waits up to
 * REDIS_STARTUP_TIMEOUT_MS while it is unreachable (one log line per try), fails at once on a
 * refused password, and with `writes` on a full Redis.
 */
export async function prepareRuntime(name: string, needs: RuntimeNeeds = {}): Promise<Runtime> {
  const config = loadConfig();
  const logger = createLogger({
    level: config.LOG_LEVEL,
    name,
    ...(config.LOG_FORMAT !== undefined ? { format: config.LOG_FORMAT } : {}),
  });
  routeConsoleThroughLogger(logger);
  setShutdownGrace(config.SHUTDOWN_GRACE_MS, logger);
  if (needs.needsRedis !== false) {
    await assertRedisReachable(config.REDIS_URL, {
      timeoutMs: config.REDIS_STARTUP_TIMEOUT_MS,
      cluster: config.REDIS_CLUSTER,
      ...(needs.writes ? { writeProbePrefix: config.QUEUE_PREFIX } : {}),
      onRetry: (retry) => logger.warn(retry, "Redis not reachable yet; retrying"),
    });
  }
  return { config, logger };
}

/**
 * Libraries print some errors with console.error/console.warn (BullMQ does, for an `error` event
 * nobody listens to; ioredis for some warnings), and Node's console shows an ioredis error whole:
 * its `command.args`, i.e. the AUTH password or a MULTI's job data. In a CLI process those calls go
 * through the logger instead, which scrubs errors and URLs like every other line.
 */
function routeConsoleThroughLogger(logger: Logger): void {
  for (const level of ["error", "warn"] as const) {
    console[level] = (...args: unknown[]) =>
      logger[level]({ console: args.length === 1 ? args[0] : args }, `console.${level}`);
  }
}

/**
 * Resolves when the reader of stdout has gone (EPIPE: `… | head -1` has read what it wanted).
 * From the first call on, such a write error is no crash ("Unhandled 'error' event"): writes
 * after it fail in their callbacks, and a command that streams (outcomes) stops on it. Any other
 * stdout error is still thrown.
 */
export function stdoutClosed(): Promise<void> {
  stdoutClosedPromise ??= new Promise<void>((resolve) => {
    process.stdout.on("error", (err: NodeJS.ErrnoException) => {
      if (err.code !== "EPIPE") throw err;
      resolve();
    });
  });
  return stdoutClosedPromise;
}
let stdoutClosedPromise: Promise<void> | undefined;

/** The exit code of a process that did not finish its shutdown within SHUTDOWN_GRACE_MS (README, "Exit codes"). */
export const FORCED_EXIT_CODE = 6;

const grace: { ms: number; logger?: Logger } = { ms: CONFIG_DEFAULTS.SHUTDOWN_GRACE_MS };

/** The grace period of the shutdown a signal starts, and where its forced end is logged (prepareRuntime sets both). */
export function setShutdownGrace(ms: number, logger?: Logger): void {
  grace.ms = ms;
  if (logger) grace.logger = logger;
}

/**
 * The first SIGTERM or SIGINT, listened for from the call on. Long-running commands call it before
 * they start anything that may say it is ready ("worker started", "listening"): a supervisor or a
 * test that signals the moment it reads that line must find the handler in place, or Node's default
 * action kills the process (no exit code, nothing closed).
 *
 * The signal also starts the grace period (SHUTDOWN_GRACE_MS, or its default before the config is
 * read): the process has exited by its end, with FORCED_EXIT_CODE if its shutdown has not finished
 * (a close that waits on a Redis that is down, stopped or refusing the password; a start-up still
 * waiting for Redis), whatever the command.
 */
export function firstSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (signal: NodeJS.Signals) => {
      process.off("SIGTERM", on);
      process.off("SIGINT", on);
      forceExitAfterGrace();
      resolve(signal);
    };
    process.on("SIGTERM", on);
    process.on("SIGINT", on);
  });
}

function forceExitAfterGrace(): void {
  const graceMs = grace.ms;
  setTimeout(() => {
    const message = "shutdown did not finish within SHUTDOWN_GRACE_MS; exiting";
    if (grace.logger) grace.logger.error({ graceMs }, message);
    else process.stderr.write(`pc-invitations: ${message} (${graceMs} ms)\n`);
    process.exit(FORCED_EXIT_CODE);
  }, graceMs).unref();
}
