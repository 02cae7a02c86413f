import { pino, type DestinationStream, type Logger } from "pino";
import pinoPretty from "pino-pretty";
import { maskSecretsInText } from "../config/redact.js";

export type { Logger };

/** Logged fields with these names are replaced by "[redacted]", at any depth (see scrubLogValue). */
const SECRET_FIELD_NAMES = new Set([
  "secretAccessKey",
  "sessionToken",
  "accessKeyId",
  "authorization",
  "Authorization",
  "credentials",
  "password",
  "redisUrl",
]);
const REDACTED = "[redacted]";

/**
 * Structured JSON logs on stderr (stdout is kept for data: NDJSON outcomes, summaries).
 *
 * Nothing secret or caller-supplied is logged on purpose, and every line passes through
 * `scrubLogValue` as well, whatever the code path that logged it:
 * - an error (an `Error`, or anything with a string `message`) loses `command`, `args`,
 *   `previousErrors` and `rawPacket`: ioredis puts the failed command's arguments there (AUTH/HELLO
 *   carry the Redis password; a refused MULTI carries every job, request metadata included) and
 *   Node's HTTP parser the raw request bytes (Authorization header included). Its `cause` chain
 *   and nested errors are scrubbed the same way.
 * - every string, the message included, has URL credentials masked (`redis://u:***@h`,
 *   `?password=***`).
 * - a field named like a secret (SECRET_FIELD_NAMES), at any depth, in an error too, is logged as
 *   "[redacted]": a last line of defence. (Done here, in the one pass every line gets anyway, rather
 *   than by pino's `redact` paths, which reach one level down only and cost a second pass.)
 *
 * `destination` (tests): where the lines go instead of stderr.
 */
export function createLogger(
  options: {
    level?: string;
    name?: string;
    destination?: DestinationStream;
    /**
     * pretty: readable lines (pino-pretty), colored on a terminal; json: one object per line. @defaultValue
     * logFormatFor(stderr)
     */
    format?: "pretty" | "json";
  } = {},
): Logger {
  // A destination given (tests, a file) gets JSON unless told otherwise.
  const format = options.format ?? (options.destination ? "json" : logFormatFor(process.stderr));
  const logger = pino(
    {
      name: options.name ?? "pc-invitations",
      level: options.level ?? "info",
      serializers: { err: scrubLogValue },
      formatters: {
        log: (object) => scrubLogValue(object) as Record<string, unknown>,
        bindings: (bindings) => scrubLogValue(bindings) as Record<string, unknown>,
      },
      hooks: {
        logMethod(args, method) {
          method.apply(
            this,
            args.map((a) => (typeof a === "string" ? maskSecretsInText(a) : a)) as Parameters<typeof method>,
          );
        },
      },
    },
    format === "pretty"
      ? // Synchronous: a line is on stderr before the next write to stdout, never mixed into it.
        pinoPretty({
          destination: options.destination ?? 2,
          sync: true,
          colorize: options.destination === undefined && process.stderr.isTTY === true,
          ignore: "pid,hostname",
          translateTime: "SYS:HH:MM:ss.l",
        })
      : (options.destination ?? pino.destination({ dest: 2, sync: false })),
  );
  // pino's `bindings` formatter sees the root's bindings only, not a child's: a child's are
  // scrubbed here, once, when it is made. Children inherit this method (pino makes a child with
  // Object.create of its parent), so grandchildren are scrubbed too.
  const child = logger.child;
  logger.child = function (this: Logger, bindings, childOptions) {
    return child.call(this, scrubLogValue(bindings) as typeof bindings, childOptions);
  } as typeof logger.child;
  return logger;
}

/** Keys of an error that hold command arguments or raw request bytes: never logged. */
const ERROR_KEYS_DROPPED = new Set(["command", "args", "previousErrors", "rawPacket"]);
/** Deeper than this, a logged value is replaced by a marker (logs are not a place for deep data). */
const MAX_LOG_DEPTH = 8;

/**
 * A copy of `value` safe to log: errors as plain objects without command arguments, URL
 * credentials masked in every string. Pure; never throws (cycles and depth are cut).
 */
export function scrubLogValue(value: unknown): unknown {
  return scrub(value, 0, new Set());
}

function scrub(value: unknown, depth: number, seen: Set<object>): unknown {
  if (typeof value === "string") return maskSecretsInText(value);
  if (value === null || typeof value !== "object") return value;
  if (seen.has(value)) return "[circular]";
  if (depth >= MAX_LOG_DEPTH) return "[too deep]";
  if (Buffer.isBuffer(value) || ArrayBuffer.isView(value))
    return `[${value.constructor.name} of ${value.byteLength} bytes]`;
  seen.add(value);
  try {
    if (Array.isArray(value)) return value.map((v) => scrub(v, depth + 1, seen));
    if (isErrorLike(value)) return scrubError(value, depth, seen);
    const proto = Object.getPrototypeOf(value) as unknown;
    // Class instances: their JSON form (a Date's ISO string, a URL's href…), scrubbed like the rest.
    if (proto !== Object.prototype && proto !== null) {
      const toJSON = (value as { toJSON?: unknown }).toJSON;
      return typeof toJSON === "function"
        ? scrub(
            safely(() => toJSON.call(value) as unknown),
            depth + 1,
            seen,
          )
        : maskSecretsInText(String(value));
    }
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value))
      out[k] = SECRET_FIELD_NAMES.has(k) ? REDACTED : scrub(v, depth + 1, seen);
    return out;
  } finally {
    seen.delete(value);
  }
}

function safely(f: () => unknown): unknown {
  try {
    return f();
  } catch {
    return "[unserialisable]";
  }
}

function isErrorLike(value: object): value is Error {
  return value instanceof Error || (typeof (value as { message?: unknown }).message === "string" && "stack" in value);
}

/** pino's error shape (`type`, `message`, `stack`, own fields), minus what ERROR_KEYS_DROPPED names. */
function scrubError(err: Error, depth: number, seen: Set<object>): Record<string, unknown> {
  const out: Record<string, unknown> = {
    type: (err as { type?: unknown }).type ?? err.constructor?.name ?? "Error",
    message: maskSecretsInText(String(err.message)),
  };
  if (typeof err.stack === "string") out.stack = maskSecretsInText(err.stack);
  for (const [k, v] of Object.entries(err)) {
    if (ERROR_KEYS_DROPPED.has(k) || k === "type" || k === "message" || k === "stack") continue;
    out[k] = SECRET_FIELD_NAMES.has(k) ? REDACTED : scrub(v, depth + 1, seen);
  }
  if (err.cause !== undefined) out.cause = scrub(err.cause, depth + 1, seen);
  if (err instanceof AggregateError) out.errors = scrub(err.errors, depth + 1, seen);
  return out;
}

/** LOG_FORMAT's default: pretty when the logs go to a terminal, JSON otherwise (a file, a collector). */
export function logFormatFor(stream: { isTTY?: boolean }): "pretty" | "json" {
  return stream.isTTY === true ? "pretty" : "json";
}
