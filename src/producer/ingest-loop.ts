import type { EventQueue, QueueMessage } from "../aws/event-queue.js";
import type { Logger } from "../observability/logger.js";
import { readPartnerEvent, type PartnerEvent } from "../schemas/partnercentral-events.js";
import type { EventHandling } from "./ingest-event.js";

export interface IngestLoopOptions {
  /** Messages per receive, 1-10. */
  batchSize: number;
  /** Long-poll wait of one receive, s (0-20). */
  waitSeconds: number;
  /** How long a received message stays hidden while it is worked on, s; extended every third of it. */
  visibilitySeconds: number;
  /** First pause after an SQS error, ms; it doubles (with jitter) up to backoffMaxMs while errors last. */
  backoffMs: number;
  backoffMaxMs: number;
  /**
   * Batches worked on at once (≥ 1): the loop receives again while earlier batches are worked on
   * and deleted, so an event that arrives meanwhile waits for neither. @defaultValue 1
   */
  batchesInFlight?: number;
}

export interface IngestLoopDeps {
  queue: EventQueue;
  handle(event: PartnerEvent): Promise<EventHandling>;
  logger: Logger;
  /** Stops receiving (SIGTERM): the batch in hand is finished and its work deleted, then the loop ends. */
  signal: AbortSignal;
  /** Called after each batch (tests, metrics). */
  onBatch?(report: BatchReport): void;
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  random?: () => number;
}

export interface BatchReport {
  received: number;
  handled: number;
  invalid: number;
  failed: number;
  deleted: number;
}

/**
 * The intake's loop, for one process (run any number: SQS hands each message to one receiver at a
 * time). Receives in batches with long polling; works on a batch's messages together, and on up to
 * `batchesInFlight` batches at once (the next receive does not wait for a batch's work or deletes); keeps them
 * hidden while it works (ChangeMessageVisibility every third of the timeout); deletes a message
 * only once its work is recorded (the handler returned), so a process that dies mid-batch leaves
 * its messages to come back to another. A message that is not a valid event is logged once per
 * receipt (the field and the rule) and handed back at once, so the queue's redrive policy moves it
 * to the dead-letter queue after maxReceiveCount receipts; a message whose work failed (Redis, the
 * API) is left to come back after its visibility timeout. SQS errors pause the loop, doubling up to
 * backoffMaxMs; every call is bounded (the adapter's timeouts), and `signal` ends a receive at once.
 */
export async function runIngestLoop(deps: IngestLoopDeps, options: IngestLoopOptions): Promise<void> {
  const { queue, logger, signal } = deps;
  const sleep = deps.sleep ?? abortableSleep;
  const random = deps.random ?? Math.random;
  let pause = options.backoffMs;
  let failing = false;
  const maxInFlight = Math.max(1, options.batchesInFlight ?? 1);
  // Batches being worked on (their work, then their deletes); a stop waits for all of them.
  const inFlight = new Set<Promise<void>>();
  while (!signal.aborted) {
    if (inFlight.size >= maxInFlight) {
      await Promise.race(inFlight);
      continue;
    }
    let messages: QueueMessage[];
    try {
      messages = await queue.receive({
        max: options.batchSize,
        waitSeconds: options.waitSeconds,
        visibilitySeconds: options.visibilitySeconds,
        signal,
      });
    } catch (err) {
      if (signal.aborted) break;
      const wait = Math.round(pause * (0.5 + random() / 2));
      logger.warn(
        { err: errorSummary(err), retryInMs: wait },
        failing ? "ingest.sqs still failing" : "ingest.sqs failing",
      );
      failing = true;
      await sleep(wait, signal).catch(() => {});
      pause = Math.min(options.backoffMaxMs, pause * 2);
      continue;
    }
    logger.debug({ n: messages.length }, "ingest.received");
    if (failing) logger.info("ingest.sqs reachable again");
    failing = false;
    pause = options.backoffMs;
    if (messages.length === 0) continue;
    // Worked on whether anyone listens (`onBatch?.(await work())` would skip the work without a
    // listener), and not awaited here: the next receive starts at once (up to maxInFlight batches).
    const batch: Promise<void> = work(deps, messages, options)
      .then((report) => deps.onBatch?.(report))
      .catch((err: unknown) => logger.warn({ err: errorSummary(err) }, "ingest.batch report failed"))
      .finally(() => inFlight.delete(batch));
    inFlight.add(batch);
  }
  // Stopping: the batches in hand finish (their work recorded, their messages deleted).
  await Promise.all(inFlight);
}

async function work(deps: IngestLoopDeps, messages: QueueMessage[], options: IngestLoopOptions): Promise<BatchReport> {
  const { queue, logger } = deps;
  const report: BatchReport = { received: messages.length, handled: 0, invalid: 0, failed: 0, deleted: 0 };
  const inFlight = new Set(messages);
  // Keeps the batch hidden while it is worked on; a refused extension means another receiver may
  // have it (the work is idempotent, so both finishing does no harm).
  const extend = setInterval(
    () => {
      if (inFlight.size === 0) return;
      queue.setVisibility([...inFlight], options.visibilitySeconds).then(
        (refused) => {
          if (refused.length > 0) logger.warn({ messageIds: refused }, "ingest.visibility extension refused");
        },
        (err: unknown) => logger.warn({ err: errorSummary(err) }, "ingest.visibility extension failed"),
      );
    },
    Math.max(1000, (options.visibilitySeconds * 1000) / 3),
  );
  const done: QueueMessage[] = [];
  const invalid: QueueMessage[] = [];
  try {
    await Promise.all(
      messages.map(async (m) => {
        try {
          const reading = readPartnerEvent(m.body);
          if (!reading.ok) {
            report.invalid++;
            invalid.push(m);
            // One line naming what is wrong; the body is not logged (it may be anything).
            logger.error(
              { messageId: m.messageId, receiveCount: m.receiveCount, problem: reading.problem },
              "ingest.invalid message (left for the dead-letter queue)",
            );
            return;
          }
          const { event } = reading;
          if (event.unknownFields.length > 0 || event.unexpectedVersion || event.kind === "unknown")
            logger.warn(
              {
                eventId: event.eventId,
                detailType: event.detailType,
                version: event.version,
                unknownFields: event.unknownFields,
              },
              "ingest.event with what the guide does not document (read all the same)",
            );
          const handling = await deps.handle(event);
          report.handled++;
          done.push(m);
          logger.info(
            {
              eventId: event.eventId,
              kind: event.kind,
              catalog: event.catalog,
              identifier: event.invitation?.id ?? event.connection?.id,
              ...handling,
              ...(m.sentAt !== null ? { sinceArrivalMs: Date.now() - m.sentAt } : {}),
            },
            "ingest.event",
          );
        } catch (err) {
          report.failed++;
          logger.warn(
            { messageId: m.messageId, receiveCount: m.receiveCount, err: errorSummary(err) },
            "ingest.event failed (it comes back after its visibility timeout)",
          );
        } finally {
          inFlight.delete(m);
        }
      }),
    );
  } finally {
    clearInterval(extend);
  }
  try {
    if (done.length > 0) {
      const refused = await queue.delete(done);
      report.deleted = done.length - refused.length;
      if (refused.length > 0)
        logger.warn({ messageIds: refused }, "ingest.delete refused (handled again: a duplicate)");
    }
    if (invalid.length > 0) await queue.setVisibility(invalid, 0);
  } catch (err) {
    // Not deleted: they come back and are handled again, as duplicates.
    logger.warn({ err: errorSummary(err) }, "ingest.delete failed (the messages come back as duplicates)");
  }
  return report;
}

function errorSummary(err: unknown): { name: string; message: string } {
  const e = err as { name?: unknown; message?: unknown };
  return { name: String(e?.name ?? "Error"), message: String(e?.message ?? err) };
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}
