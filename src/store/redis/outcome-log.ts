import type { ChainableCommander } from "ioredis";
import type { QueueLocation } from "../queue-location.js";
import type {
  GroupBatch,
  LogEntryKind,
  LogEvent,
  LogFilter,
  LoggedEvent,
  LogPage,
  OutcomeLog,
} from "../outcome-log.js";
import { duplicateConnection, type RedisConnection } from "./connection.js";
import { outcomeLogKey, sinkLeaseKey } from "./keys.js";
import { runScript } from "./lua-scripts.js";
import { SCRIPTS } from "./scripts.js";

/**
 * The fields of a log entry, in the order lua/includes/append-log.lua writes them: the kind and the
 * event's JSON only (the readers parse the JSON, which carries the type, ids, catalog and identifier).
 */
export const LOG_FIELDS = ["kind", "json"] as const;

/** The trim point of the log for a retention: entries older than now − retention go (MINID, ms). */
export function logMinId(retentionSeconds: number, nowMs = Date.now()): string {
  return String(Math.max(0, nowMs - retentionSeconds * 1000));
}

/**
 * The arguments of appendLog (lua/includes/append-log.lua) after the key and the trim point:
 * kind, type, eventId, requestId, catalog, identifier, the event JSON.
 */
export function logEntryArgs(kind: LogEntryKind, event: LogEvent): string[] {
  return [
    kind,
    event.type,
    event.eventId,
    event.requestId ?? "",
    event.catalog ?? "",
    event.identifier ?? "",
    JSON.stringify(event),
  ];
}

/**
 * Queues the event's log entry on a MULTI (a publication made by a transaction, publish.ts
 * publishGuarded): written exactly when the transaction executes.
 */
export function appendLogInTransaction(
  multi: ChainableCommander,
  key: string,
  kind: LogEntryKind,
  event: LogEvent,
  retentionSeconds: number,
): void {
  const [k, , , , , , json] = logEntryArgs(kind, event);
  multi.xadd(key, "MINID", "~", logMinId(retentionSeconds), "*", "kind", k!, "json", json!);
}

type RawEntry = [id: string, fields: string[] | null];

/** An entry as read, or undefined when its fields are gone (trimmed) or its JSON is not an event. */
function parseEntry([id, fields]: RawEntry): LoggedEvent | undefined {
  if (!fields) return undefined;
  const map: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) map[fields[i]!] = fields[i + 1]!;
  try {
    const event = JSON.parse(map.json ?? "") as LogEvent;
    if (typeof event !== "object" || event === null) return undefined;
    return { cursor: id, kind: map.kind === "notice" ? "notice" : "outcome", event };
  } catch {
    return undefined;
  }
}

function matches(entry: LoggedEvent, filter: LogFilter | undefined): boolean {
  if (!filter) return true;
  if (filter.types && filter.types.length > 0 && !filter.types.includes(entry.event.type)) return false;
  if (filter.catalog !== undefined && entry.event.catalog !== filter.catalog) return false;
  return true;
}

function toBatch(entries: RawEntry[]): GroupBatch {
  const batch: GroupBatch = { events: [], gone: [] };
  for (const raw of entries) {
    const parsed = parseEntry(raw);
    if (parsed) batch.events.push(parsed);
    else batch.gone.push(raw[0]);
  }
  return batch;
}

/** Whether `cursor` is a stream id (`<ms>` or `<ms>-<seq>`), so a reader's cursor cannot inject anything. */
export function isLogCursor(cursor: string): boolean {
  return /^\d{1,20}(-\d{1,20})?$/.test(cursor);
}

export interface RedisOutcomeLogOptions {
  /** A connection of the caller's; never closed. Blocking reads use a duplicate of their own. */
  connection: RedisConnection;
  location: QueueLocation;
}

/**
 * The outcome log on Redis: a stream (keys.ts outcomeLogKey) appended to by the publications
 * (lua/publish-outcome.lua, publish.ts), read with XRANGE (pages), XREAD BLOCK (waiting),
 * XREADGROUP / XACK / XAUTOCLAIM (the sinks' groups), and a lease per sink (lua/hold-lease.lua).
 */
export function createRedisOutcomeLog(options: RedisOutcomeLogOptions): OutcomeLog {
  const { connection, location } = options;
  const key = outcomeLogKey(location.prefix, location.outcomesQueue);
  // Blocking reads hold their connection: one of their own, opened on first use.
  let blocking: RedisConnection | undefined;
  const blocker = () => (blocking ??= duplicateConnection(connection));

  return {
    async readEvents(after, limit, filter, scanLimit = limit * 10) {
      const start = after === undefined || after === "0" ? "-" : `(${after}`;
      const events: LoggedEvent[] = [];
      let next = after ?? "0";
      let from = start;
      let scanned = 0;
      while (events.length < limit && scanned < scanLimit) {
        const want = Math.min(Math.max(limit - events.length, 1) * 2, scanLimit - scanned, 1000);
        const raw = (await connection.xrange(key, from, "+", "COUNT", want)) as RawEntry[];
        for (const entry of raw) {
          scanned++;
          next = entry[0];
          const parsed = parseEntry(entry);
          if (parsed && matches(parsed, filter)) events.push(parsed);
          if (events.length >= limit) break;
        }
        if (raw.length < want) break;
        from = `(${next}`;
      }
      return { events, next } satisfies LogPage;
    },
    async waitEvents(after, limit, blockMs) {
      const reply = (await blocker().xread(
        "COUNT",
        limit,
        "BLOCK",
        Math.max(1, blockMs),
        "STREAMS",
        key,
        after,
      )) as Array<[string, RawEntry[]]> | null;
      return (reply?.[0]?.[1] ?? []).flatMap((e) => parseEntry(e) ?? []);
    },
    async lastCursor() {
      const [last] = (await connection.xrevrange(key, "+", "-", "COUNT", 1)) as RawEntry[];
      return last?.[0] ?? "0-0";
    },
    async firstCursor() {
      const [first] = (await connection.xrange(key, "-", "+", "COUNT", 1)) as RawEntry[];
      return first?.[0];
    },
    length: () => connection.xlen(key),

    async ensureGroup(group) {
      try {
        await connection.xgroup("CREATE", key, group, "0", "MKSTREAM");
      } catch (err) {
        if (!String((err as Error).message).includes("BUSYGROUP")) throw err;
      }
    },
    async readGroup(group, consumer, count, blockMs) {
      // Its own pending entries first (handed out, not acknowledged: a handler that failed).
      const mine = (await connection.xreadgroup(
        "GROUP",
        group,
        consumer,
        "COUNT",
        count,
        "STREAMS",
        key,
        "0",
      )) as Array<[string, RawEntry[]]> | null;
      const pending = mine?.[0]?.[1] ?? [];
      if (pending.length > 0) return toBatch(pending);
      const reply = (await blocker().xreadgroup(
        "GROUP",
        group,
        consumer,
        "COUNT",
        count,
        "BLOCK",
        Math.max(1, blockMs),
        "STREAMS",
        key,
        ">",
      )) as Array<[string, RawEntry[]]> | null;
      return toBatch(reply?.[0]?.[1] ?? []);
    },
    async claimStale(group, consumer, minIdleMs, count) {
      const reply = (await connection.xautoclaim(key, group, consumer, minIdleMs, "0-0", "COUNT", count)) as [
        string,
        RawEntry[],
        string[]?,
      ];
      const batch = toBatch(reply[1] ?? []);
      batch.gone.push(...(reply[2] ?? []));
      return batch;
    },
    async ack(group, cursors) {
      if (cursors.length > 0) await connection.xack(key, group, ...cursors);
    },
    async groupInfo(group) {
      const groups = (await connection.xinfo("GROUPS", key).catch(() => [])) as unknown[][];
      for (const g of groups) {
        const info: Record<string, unknown> = {};
        for (let i = 0; i + 1 < g.length; i += 2) info[String(g[i])] = g[i + 1];
        if (info.name === group) {
          const lag = info.lag;
          return { pending: Number(info.pending ?? 0), lag: typeof lag === "number" ? lag : null };
        }
      }
      return undefined;
    },

    async holdLease(sink, holder, ms) {
      const leaseKey = sinkLeaseKey(location.prefix, location.outcomesQueue, sink);
      return Number(await runScript(connection, SCRIPTS.holdLease, [leaseKey], [holder, String(Math.round(ms))])) === 1;
    },
    async releaseLease(sink, holder) {
      const leaseKey = sinkLeaseKey(location.prefix, location.outcomesQueue, sink);
      await runScript(connection, SCRIPTS.releaseLock, [leaseKey], [holder]);
    },
    async close() {
      blocking?.disconnect();
      blocking = undefined;
    },
  };
}
