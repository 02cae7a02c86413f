/**
 * The outcome log: every event published onto the outcomes queue (an outcome, or a notice of a
 * held decision), in publication order, kept `IDEMPOTENCY_RETENTION_SECONDS` (trimmed by age,
 * approximately: a few older entries may stay a while, none younger goes). It is written by the
 * publication itself (the same Lua script or MULTI, redis/lua/includes/append-log.lua), so an event
 * is in the log exactly when it is on the outcomes queue; reading it never consumes anything.
 *
 * Two ways to read:
 * - `readEvents(after, limit, filter)`: a page after a cursor (`GET /v1/outcomes`, the SSE stream,
 *   `outcomes list`). Nothing is acknowledged; any number of readers see every event.
 * - consumer groups, one per sink of the `deliver` fleet (delivery/event-sink.ts): `readGroup`
 *   hands entries to one consumer, which `ack`s them once handled; entries of a consumer that died
 *   are taken over with `claimStale`. Together with `takeLease` (one holder per sink at a time),
 *   each sink sees the log at least once and in order.
 *
 * The Redis implementation is redis/outcome-log.ts (a stream, XRANGE, XREADGROUP, XACK, XAUTOCLAIM).
 */

/** An event as the log holds it: the JSON published (an outcome event, or a notice). */
export interface LogEvent {
  type: string;
  eventId: string;
  requestId?: string;
  catalog?: string | null;
  identifier?: string | null;
  [field: string]: unknown;
}

/** What kind of publication an entry is: an outcome (lua/publish-outcome.lua, a cancel) or a notice. */
export type LogEntryKind = "outcome" | "notice";

/** One entry of the log. */
export interface LoggedEvent {
  /**
   * Its position: an opaque, ordered cursor (the stream entry id, `<ms>-<seq>`), also the SSE
   * `id`. Strictly increasing in publication order.
   */
  cursor: string;
  kind: LogEntryKind;
  event: LogEvent;
}

export interface LogFilter {
  /** Only events of these types (any, when absent or empty). */
  types?: readonly string[];
  /** Only events of this catalog. */
  catalog?: string;
}

export interface LogPage {
  events: LoggedEvent[];
  /** The cursor to read on from: the last entry looked at (even when filtered out), or `after`. */
  next: string;
}

/** How a group's entry came: delivered for the first time, or taken over from another consumer. */
export interface GroupBatch {
  events: LoggedEvent[];
  /** Cursors of pending entries the log no longer holds (trimmed): acknowledge them, nothing to handle. */
  gone: string[];
}

export interface OutcomeLog {
  /**
   * Up to `limit` events after `after` (exclusive; "0" or undefined: from the oldest kept), oldest
   * first, those matching `filter`. Looks at no more than `scanLimit` entries (default 10 × limit),
   * so a filter that matches little answers with fewer events and a `next` to go on from.
   */
  readEvents(after: string | undefined, limit: number, filter?: LogFilter, scanLimit?: number): Promise<LogPage>;
  /** Waits up to `blockMs` for entries after `after` (the SSE stream); [] when none came. */
  waitEvents(after: string, limit: number, blockMs: number): Promise<LoggedEvent[]>;
  /** The newest entry's cursor ("0-0" when the log is empty): a reader that starts "from now". */
  lastCursor(): Promise<string>;
  /** The oldest kept entry's cursor, or undefined when the log is empty (a reader knows what it missed). */
  firstCursor(): Promise<string | undefined>;
  /** Entries in the log now. */
  length(): Promise<number>;

  /** Creates the sink's group (reading from the oldest kept entry) unless it exists. */
  ensureGroup(group: string): Promise<void>;
  /**
   * Up to `count` entries for `consumer`: first those it was handed and has not acknowledged
   * (`pending`), else new ones, waiting up to `blockMs` for them.
   */
  readGroup(group: string, consumer: string, count: number, blockMs: number): Promise<GroupBatch>;
  /** Takes over entries pending with other consumers for at least `minIdleMs` (a crashed deliverer's). */
  claimStale(group: string, consumer: string, minIdleMs: number, count: number): Promise<GroupBatch>;
  /** Acknowledges handled entries: the group will not hand them out again. */
  ack(group: string, cursors: readonly string[]): Promise<void>;
  /** How far behind the group is: entries not yet handed out (Redis ≥ 7 `lag`), and pending. */
  groupInfo(group: string): Promise<{ pending: number; lag: number | null } | undefined>;

  /** Takes or renews the sink's lease for `ms` when free or already `holder`'s; true when held. */
  holdLease(sink: string, holder: string, ms: number): Promise<boolean>;
  /** Lets the lease go if it is `holder`'s. */
  releaseLease(sink: string, holder: string): Promise<void>;
  close(): Promise<void>;
}
