import { Cluster, Redis, type RedisOptions } from "ioredis";
import { RedisAuthError, RedisFullError, RedisUnavailableError } from "../../errors/index.js";
import { redactUrl } from "../../config/redact.js";
import { writeProbeKey } from "./keys.js";

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

/** One failed try of the start-up check, for the caller's log (no secret in it). */
export interface StartupRetry {
  attempt: number;
  /** Why this try failed: the error's message (Redis replies and socket errors carry no password). */
  error: string;
  retryInMs: number;
  elapsedMs: number;
  timeoutMs: number;
  /** REDIS_URL without credentials. */
  url: string;
}

export interface StartupCheckOptions {
  /**
   * How long to keep trying while Redis is unreachable (a restart, a failover, a container that
   * starts after this one), ms; 0 = one try. Tries back off exponentially (250 ms doubling, at
   * most 5 s apart). @defaultValue 0
   */
  timeoutMs?: number;
  /** Bound of one try (TCP connect + PING), ms. @defaultValue 2000 */
  tryTimeoutMs?: number;
  /** REDIS_URL names a seed node of a Redis Cluster (the write probe then goes through a Cluster client). */
  cluster?: boolean;
  /**
   * Also check that Redis accepts writes, with a write probe in this queue prefix's slot
   * (keys.ts writeProbeKey): a full Redis fails the check with RedisFullError at once (waiting does not free memory).
   */
  writeProbePrefix?: string;
  /** Called before each wait between tries. */
  onRetry?: (retry: StartupRetry) => void;
}

const FIRST_RETRY_MS = 250;
const MAX_RETRY_MS = 5000;

/**
 * The wait after the `attempt`-th failed try of the start-up check (1 = the first), ms: 250 ms,
 * doubling, at most 5 s, and never longer than `leftMs` (what is left of the timeout).
 */
export function startupRetryDelayMs(attempt: number, leftMs = Infinity): number {
  return Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** (attempt - 1), leftMs);
}

/**
 * The start-up check of every CLI command that needs Redis: one clear error instead of BullMQ's
 * endless reconnect loop or a stack trace. Waits (with backoff, up to `timeoutMs`) while Redis is
 * unreachable; fails at once on what waiting does not fix.
 * @throws RedisUnavailableError still unreachable after `timeoutMs`
 * @throws RedisAuthError wrong or missing password (never retried)
 * @throws RedisFullError `writeProbePrefix` given and Redis refuses writes (maxmemory reached)
 */
export async function assertRedisReachable(url: string, options: StartupCheckOptions = {}): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 0;
  const tryTimeoutMs = options.tryTimeoutMs ?? 2000;
  const started = Date.now();
  for (let attempt = 1; ; attempt++) {
    const failure = await pingOnce(url, tryTimeoutMs);
    if (failure === undefined) break;
    const known = toRedisError(failure, url);
    if (known) throw known;
    const elapsedMs = Date.now() - started;
    const retryInMs = startupRetryDelayMs(attempt, timeoutMs - elapsedMs);
    if (retryInMs <= 0) throw new RedisUnavailableError(redactUrl(url), { cause: failure });
    options.onRetry?.({ attempt, error: errorMessage(failure), retryInMs, elapsedMs, timeoutMs, url: redactUrl(url) });
    await new Promise((resolve) => setTimeout(resolve, retryInMs));
  }
  if (options.writeProbePrefix !== undefined)
    await assertWritable(url, options.writeProbePrefix, { cluster: options.cluster ?? false, tryTimeoutMs });
}

/** Connects and PINGs once; the error when that failed (the AUTH reply, when that was the reason). */
async function pingOnce(url: string, tryTimeoutMs: number): Promise<Error | undefined> {
  const probe = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    connectTimeout: tryTimeoutMs,
    // A Redis that accepts connections and never answers (stopped, swapping) fails the try too.
    commandTimeout: tryTimeoutMs,
    retryStrategy: () => null,
    enableOfflineQueue: false,
    enableReadyCheck: false,
  });
  // A refused password arrives as an 'error' event; connect() itself only says "Connection is closed".
  let replyError: Error | undefined;
  probe.on("error", (err: Error) => {
    if (toRedisError(err, url)) replyError ??= err;
  });
  try {
    await probe.connect();
    await probe.ping();
    return undefined;
  } catch (err) {
    return replyError ?? (err instanceof Error ? err : new Error(String(err)));
  } finally {
    // Not QUIT: a Redis that does not answer would not answer that either.
    probe.disconnect();
  }
}

async function assertWritable(
  url: string,
  prefix: string,
  options: { cluster: boolean; tryTimeoutMs: number },
): Promise<void> {
  const connection = createRedis(url, {
    cluster: options.cluster,
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    connectTimeout: options.tryTimeoutMs,
    retryStrategy: () => null,
  });
  connection.on("error", () => {});
  let verdict: "ok" | "full" | Error;
  let timer: NodeJS.Timeout | undefined;
  try {
    // Bounded: a Cluster client keeps retrying (and queueing) while it cannot settle.
    const timeout = new Promise<never>(
      (_, reject) => (timer = setTimeout(() => reject(new Error("write probe timed out")), 2 * options.tryTimeoutMs)),
    );
    verdict = await Promise.race([probeWrites(connection, prefix), timeout]);
  } catch (err) {
    verdict = err instanceof Error ? err : new Error(String(err));
  } finally {
    clearTimeout(timer);
    connection.disconnect();
  }
  if (verdict === "full") throw new RedisFullError(redactUrl(url));
  // Any other failure (an ACL without SETRANGE, a Cluster still settling) says nothing about
  // memory: the command goes on, and a full Redis would still stop it with RedisFullError.
  if (verdict instanceof Error) {
    const known = toRedisError(verdict, url);
    if (known) throw known;
  }
}

/**
 * Whether Redis accepts writes right now, asked of the node that holds the queue prefix's hash-tag
 * slot: `SETRANGE <writeProbeKey> 0 ""` is a write command, so a Redis over maxmemory with
 * `noeviction` refuses it with OOM, yet it writes nothing (an empty range changes no value and
 * creates no key). Exact (Redis's own verdict, not a guess from INFO numbers), one round trip.
 * @throws what the connection throws for anything but OOM (unreachable, auth)
 */
export async function probeWrites(connection: RedisConnection, prefix: string): Promise<"ok" | "full"> {
  try {
    await connection.setrange(writeProbeKey(prefix), 0, "");
    return "ok";
  } catch (err) {
    if (classifyRedisError(err) === "full") return "full";
    throw err;
  }
}

/** What a Redis error means here, or undefined for any other error. */
export function classifyRedisError(err: unknown): "full" | "wrong-password" | "password-required" | undefined {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const message = e.message;
    if (/^OOM |OOM command not allowed/.test(message)) return "full";
    if (/^EXECABORT/.test(message)) {
      const previous = (e as { previousErrors?: unknown }).previousErrors;
      if (Array.isArray(previous) && previous.some((p) => classifyRedisError(p) === "full")) return "full";
    }
    if (/^WRONGPASS|invalid password|invalid username-password/i.test(message)) return "wrong-password";
    if (/^NOAUTH|Authentication required/i.test(message)) return "password-required";
  }
  return undefined;
}

/**
 * The typed error for a Redis reply that means "full" or "credentials refused", with the reply as
 * its `cause`; undefined for any other error. `url` (REDIS_URL) is shown without credentials.
 */
export function toRedisError(err: unknown, url?: string): RedisFullError | RedisAuthError | undefined {
  const kind = classifyRedisError(err);
  if (kind === undefined) return undefined;
  const shown = url === undefined ? undefined : redactUrl(url);
  if (kind === "full") return new RedisFullError(shown, { cause: err });
  return new RedisAuthError(shown ?? "(unknown)", redisUsername(url), kind, { cause: err });
}

/** The user REDIS_URL authenticates as: its user part, `?username=`, or Redis's `default`. */
function redisUsername(url: string | undefined): string {
  try {
    const u = new URL(url ?? "");
    return decodeURIComponent(u.username) || u.searchParams.get("username") || "default";
  } catch {
    return "default";
  }
}

function errorMessage(err: Error): string {
  // AggregateError (e.g. ECONNREFUSED on ::1 and 127.0.0.1) has an empty message of its own.
  if (err.message) return err.message;
  const first = (err as { errors?: unknown[] }).errors?.[0];
  return first instanceof Error ? first.message : err.name;
}

/** Resolves when `promise` settles or after `ms`, whichever is first; never rejects. */
export async function settled(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([promise.catch(() => undefined), new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}

/** Longest a close waits for start-up commands, and for QUIT, before dropping the connection. */
export const CLOSE_SETTLE_MS = 2000;

/**
 * QUIT (Redis answers every command sent before it, then closes; on a Cluster every node does)
 * rather than disconnect (which rejects whatever is still pending with "Connection is closed").
 * Falls back to disconnect when QUIT fails or does not come back in time.
 */
export async function quitConnection(connection: RedisConnection): Promise<void> {
  await settled(connection.quit(), CLOSE_SETTLE_MS);
  if (connection.status !== "end") connection.disconnect();
}
