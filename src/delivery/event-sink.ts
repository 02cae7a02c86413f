import { setTimeout as delay } from "node:timers/promises";
import type { LoggedEvent, OutcomeLog } from "../store/outcome-log.js";

/**
 * Something the `deliver` fleet feeds the outcome log to (store/outcome-log.ts): the webhooks'
 * fan-out (webhook-sink.ts), the PostgreSQL history. Each sink has its own consumer group
 * (`sink:<name>`) and lease, so sinks move independently and a slow one holds up no other.
 *
 * What `runSink` promises a sink:
 * - every event the log holds reaches `handle` at least once (a batch whose `handle` throws, or
 *   whose process dies before acknowledging it, is handed again, to this process or the next
 *   holder of the lease);
 * - in log order: one process of the fleet runs a sink at a time (its lease), and it hands out the
 *   entries it holds pending, oldest first, before new ones. A holder that lost its lease while
 *   handling may still finish its batch: a sink must be idempotent by `event.eventId`.
 * - events trimmed from the log before the sink read them never reach it (the log keeps
 *   IDEMPOTENCY_RETENTION_SECONDS; `deliver` reports the group's lag).
 */
export interface EventSink {
  /** Unique among the sinks: names its consumer group (`sink:<name>`) and its lease. */
  readonly name: string;
  /** Handles a batch, oldest first. Throws to have the whole batch handed again later. */
  handle(events: readonly LoggedEvent[]): Promise<void>;
}

export interface RunSinkOptions {
  /** This process's id (unique per process start): its consumer name and lease holder. */
  holder: string;
  /** Stops the loop (the current batch finishes first). */
  signal: AbortSignal;
  /** Entries per batch. @defaultValue 100 */
  batchSize?: number;
  /** How long one read waits for new entries, ms (bounds how long a stop waits). @defaultValue 1000 */
  blockMs?: number;
  /** The lease's length, ms; renewed every third of it while the holder works. @defaultValue 15000 */
  leaseMs?: number;
  /** Pause after a failed batch or a failed read, ms. @defaultValue 1000 */
  retryDelayMs?: number;
  /** A batch handled and acknowledged. */
  onBatch?(info: { sink: string; events: number; gone: number }): void;
  /** A read or a batch failed (it is tried again after retryDelayMs). */
  onError?(err: unknown, sink: string): void;
}

/** The consumer group of a sink. */
export function sinkGroup(sink: string): string {
  return `sink:${sink}`;
}

/**
 * Runs `sink` over the outcome log until `signal` aborts: while this process holds the sink's
 * lease, it takes over whatever an earlier holder left pending (XAUTOCLAIM), then reads its own
 * pending entries and new ones (XREADGROUP), hands them to the sink and acknowledges them (XACK).
 * Every wait is bounded by blockMs or retryDelayMs, so a stop is seen within about a second.
 */
export async function runSink(log: OutcomeLog, sink: EventSink, options: RunSinkOptions): Promise<void> {
  const { holder, signal } = options;
  const group = sinkGroup(sink.name);
  const batchSize = options.batchSize ?? 100;
  const blockMs = options.blockMs ?? 1000;
  const leaseMs = options.leaseMs ?? 15_000;
  const retryDelayMs = options.retryDelayMs ?? 1000;
  const pause = (ms: number) => delay(ms, undefined, { signal }).catch(() => undefined);
  let groupReady = false;
  let holding = false;
  try {
    while (!signal.aborted) {
      try {
        if (!groupReady) {
          await log.ensureGroup(group);
          groupReady = true;
        }
        holding = await log.holdLease(sink.name, holder, leaseMs);
        if (!holding) {
          await pause(Math.min(leaseMs / 3, 1000));
          continue;
        }
        // We hold the lease: whatever another consumer still has pending is a former holder's.
        const claimed = await log.claimStale(group, holder, 0, batchSize);
        if (claimed.gone.length > 0) await log.ack(group, claimed.gone);
        const batch = await log.readGroup(group, holder, batchSize, blockMs);
        if (batch.gone.length > 0) await log.ack(group, batch.gone);
        if (batch.events.length === 0) {
          if (batch.gone.length > 0) options.onBatch?.({ sink: sink.name, events: 0, gone: batch.gone.length });
          continue;
        }
        // Keep the lease while the sink works (a long batch would otherwise let another holder in).
        const renew = setInterval(
          () => void log.holdLease(sink.name, holder, leaseMs).catch(() => undefined),
          Math.max(100, leaseMs / 3),
        );
        try {
          await sink.handle(batch.events);
        } finally {
          clearInterval(renew);
        }
        await log.ack(
          group,
          batch.events.map((e) => e.cursor),
        );
        options.onBatch?.({ sink: sink.name, events: batch.events.length, gone: batch.gone.length });
      } catch (err) {
        if (signal.aborted) break;
        options.onError?.(err, sink.name);
        await pause(retryDelayMs);
      }
    }
  } finally {
    if (holding) await log.releaseLease(sink.name, holder).catch(() => undefined);
  }
}
