import { UnrecoverableError, Worker, type Job, type Telemetry } from "bullmq";
import { OutcomeParkedError } from "../errors/index.js";
import type { Logger } from "../observability/logger.js";
import { createRedis, type RedisConnection } from "../store/redis/connection.js";
import { DEFAULT_QUEUE_LOCATION } from "../store/queue-location.js";
import { CONFIG_DEFAULTS } from "../schemas/config.js";
import { outcomeEventSchema, parseStoredEvent, type OutcomeEvent } from "../contracts/outcome.js";
import { looksLikeNotice, noticeSchema, type Notice } from "../contracts/notice.js";

/**
 * What the outcomes queue carries: outcome events, and notices about held invitations
 * (contracts/notice.ts: `invitation.held`, `invitation.expiring`). Tell them apart by `type`;
 * a handler ignores the types it does not know.
 */
export type ConsumedEvent = OutcomeEvent | Notice;

/** True for a notice (no requestId: it is about an invitation, not a request). */
export function isNotice(event: ConsumedEvent): event is Notice {
  return looksLikeNotice(event);
}

/**
 * Default of `maxStalledCount`: "practically never give up". BullMQ's own default is 1, which
 * parks an event the second time its consumer dies while handling it (an OOM-killed pod, a
 * deploy that SIGKILLs, a node lost): a few unlucky restarts would be enough.
 */
export const OUTCOME_MAX_STALLED_COUNT = 1_000_000;

export interface ConsumeOutcomesOptions {
  /** An ioredis Redis or Cluster (not closed here) or a URL. @defaultValue REDIS_URL's default, redis://127.0.0.1:6379
   * */
  redis?: RedisConnection | string;
  /** @defaultValue QUEUE_PREFIX's default, "{pci}" */
  prefix?: string;
  /** @defaultValue OUTCOMES_QUEUE's default, "invitation-outcomes" */
  queueName?: string;
  /** Outcomes handled at once. 1 keeps the order in which they were published. @defaultValue 1 */
  concurrency?: number;
  /** First retry delay after the handler threw, ms; doubles up to maxRetryDelayMs. @defaultValue 1000 */
  retryDelayMs?: number;
  /** @defaultValue 60000 */
  maxRetryDelayMs?: number;
  /**
   * Handler failures (throws or rejections) after which an event is parked instead of retried.
   * @defaultValue unbounded: the event's own attempts, 1,000,000 (set by the publisher)
   */
  maxAttempts?: number;
  /**
   * Times an event may lose its consumer (a process that died or was blocked past
   * `lockDurationMs` while handling it) and still be delivered again; one more and it is parked.
   * Consumers sharing a queue should agree on it: whichever runs the stalled check applies its own.
   * @defaultValue OUTCOME_MAX_STALLED_COUNT, 1,000,000
   */
  maxStalledCount?: number;
  /**
   * How long an event stays claimed by a consumer that stopped renewing its lock, ms: how soon the
   * event of a crashed consumer can go to another. A handler may run longer (the lock is renewed
   * every lockDurationMs/2); only a process that is dead or blocked loses it.
   * @defaultValue 30000 (BullMQ's)
   */
  lockDurationMs?: number;
  /** How often this consumer looks for events whose consumer was lost, ms. @defaultValue 30000 (BullMQ's) */
  stalledIntervalMs?: number;
  /** Resolve `done` and stop once the queue has no waiting outcome (one-shot drain). @defaultValue false */
  drain?: boolean;
  /**
   * Called with the handler's error each time it fails (the event will be retried), and with an
   * OutcomeParkedError (cause: what made BullMQ give up) when an event is parked.
   */
  onError?: (error: unknown, event: unknown) => void;
  /** Parked events (error), handler failures and lost consumers (warn) are logged here. @defaultValue none */
  logger?: Logger;
  /** BullMQ telemetry: each handled event is a CONSUMER span, a child of the worker run that published it. */
  telemetry?: Telemetry;
  /**
   * Longest `close()` waits for BullMQ to close (the handler in progress to finish, the connections
   * to quit), ms: past it the connections are dropped without waiting (Redis unreachable, stopped,
   * refusing the password), and an event still in its handler is delivered again later.
   * @defaultValue SHUTDOWN_GRACE_MS's default, 30000
   */
  closeTimeoutMs?: number;
}

export interface OutcomeConsumer {
  /** Resolves when the consumer stopped (drained in drain mode, or close() was called). */
  done: Promise<void>;
  /** Resolves once the consumer is connected and taking events; never rejects (a connection that fails stays pending).
   * */
  ready: Promise<void>;
  /**
   * Stops taking events, lets the one in its handler finish, and closes; resolves within
   * `closeTimeoutMs` whatever Redis does (past it the connections are dropped without waiting).
   */
  close(): Promise<void>;
}

/**
 * Calls `handler` for every outcome event, and every notice about a held invitation (ConsumedEvent:
 * tell them apart by `type`, ignore the types you do not know), at least once. The contract:
 * - an event is acknowledged only after the handler resolved;
 * - a handler that throws gets the event again later (exponential backoff, capped);
 * - a consumer that dies or blocks while handling loses the event after `lockDurationMs`, and
 *   another consumer (or this one, restarted) gets it again;
 * - an event is never dropped silently: past `maxAttempts` handler failures or
 *   `maxStalledCount` lost consumers (both practically unbounded by default), or when it is not
 *   an outcome event, it is parked in the outcomes queue's failed set (kept, never removed),
 *   `onError` gets an OutcomeParkedError and the logger an error line; `pc-invitations outcomes
 *   --parked` lists such events and `pc-invitations outcomes replay` delivers them again.
 * Redelivery means a handler may see an event more than once (a crash after the handler, before
 * the acknowledgement): handlers should be idempotent on `eventId`.
 */
export function consumeOutcomes(
  handler: (event: ConsumedEvent) => Promise<void> | void,
  options: ConsumeOutcomesOptions = {},
): OutcomeConsumer {
  const ownsConnection = typeof options.redis !== "object";
  const connection =
    typeof options.redis === "object" ? options.redis : createRedis(options.redis ?? CONFIG_DEFAULTS.REDIS_URL);
  const base = options.retryDelayMs ?? 1000;
  const cap = options.maxRetryDelayMs ?? 60_000;
  const maxAttempts = options.maxAttempts ?? Infinity;
  const log = options.logger;
  const worker = new Worker(
    options.queueName ?? DEFAULT_QUEUE_LOCATION.outcomesQueue,
    async (job: Job) => {
      // A malformed event can never succeed: park it at once. So is one the parser cannot even walk
      // (zod recurses into nested values: metadata nested thousands deep overflows the stack),
      // which would otherwise be retried for ever, never handled, never parked.
      const notice = looksLikeNotice(job.data);
      const parsed = notice
        ? parseStoredEvent<ConsumedEvent>(noticeSchema, job.data)
        : parseStoredEvent<ConsumedEvent>(outcomeEventSchema, job.data);
      if (!parsed.success)
        throw new UnrecoverableError(
          `${notice ? "notice" : "outcome"} ${job.id} does not match the ${notice ? "notice" : "outcome"} schema` +
            `${parsed.reason ? ` (${parsed.reason})` : ""}`,
        );
      const event = parsed.data;
      try {
        await handler(event);
      } catch (err) {
        const failures = job.attemptsMade + 1;
        options.onError?.(err, event);
        log?.warn(
          { requestId: isNotice(event) ? undefined : event.requestId, eventId: event.eventId, failures, err },
          "outcome handler failed; the event will be delivered again",
        );
        if (failures >= maxAttempts) {
          throw Object.assign(
            new UnrecoverableError(
              `the handler failed ${failures} times (maxAttempts ${maxAttempts}); last: ${messageOf(err)}`,
            ),
            { cause: err },
          );
        }
        // BullMQ reads the thrown value's message and name: a handler that throws undefined or
        // rejects with null would leave the event active until its lock ran out (and count as a
        // lost consumer), not retried after retryDelayMs as any other failure.
        throw err instanceof Error
          ? err
          : Object.assign(new Error(`the outcome handler threw ${messageOf(err)}`), { cause: err });
      }
    },
    {
      connection,
      prefix: options.prefix ?? DEFAULT_QUEUE_LOCATION.prefix,
      concurrency: options.concurrency ?? 1,
      maxStalledCount: options.maxStalledCount ?? OUTCOME_MAX_STALLED_COUNT,
      ...(options.lockDurationMs !== undefined ? { lockDuration: options.lockDurationMs } : {}),
      ...(options.stalledIntervalMs !== undefined ? { stalledInterval: options.stalledIntervalMs } : {}),
      ...(options.telemetry ? { telemetry: options.telemetry } : {}),
      settings: { backoffStrategy: (attemptsMade: number) => Math.min(cap, base * 2 ** Math.max(0, attemptsMade - 1)) },
    },
  );
  worker.on("error", (err) => log?.warn({ err: { message: err.message } }, "outcome consumer error"));
  // BullMQ emits `stalled` when it hands the event of a lost consumer out again.
  worker.on("stalled", (jobId) =>
    log?.warn({ requestId: jobId }, "an outcome event lost its consumer (died or blocked); delivering it again"),
  );
  // A job that failed for good (finishedOn set) is parked: BullMQ gave up on it, whichever way.
  // Without this, the stalled-limit case would be invisible: BullMQ fails such a job in another
  // consumer without running the processor, so nothing above sees it.
  worker.on("failed", (job, err) => {
    if (!job?.finishedOn) return; // a failed attempt that will be retried
    const requestId = job.id ?? "(no id)";
    const reason = job.failedReason ?? err.message;
    const parked = new OutcomeParkedError(requestId, reason, { cause: err });
    log?.error(
      {
        requestId,
        eventId: eventIdOf(job.data),
        reason,
        handlerFailures: job.attemptsMade,
        lostConsumers: job.stalledCounter,
        replay: `pc-invitations outcomes replay --id ${requestId}`,
      },
      "outcome event parked: it will not be delivered again until replayed",
    );
    options.onError?.(parked, job.data);
  });

  let resolveDone!: () => void;
  const done = new Promise<void>((r) => (resolveDone = r));
  let closing: Promise<void> | undefined;
  const closeTimeoutMs = options.closeTimeoutMs ?? CONFIG_DEFAULTS.SHUTDOWN_GRACE_MS;
  const close = () =>
    (closing ??= (async () => {
      // BullMQ's close waits for Redis without a bound (its connections quit, which a Redis that is
      // down, stopped or refusing our password never answers): bounded here.
      const closed = worker.close().then(
        () => "closed" as const,
        () => "closed" as const,
      );
      const how = await Promise.race([closed, delay(closeTimeoutMs, "timeout" as const)]);
      if (how === "timeout") {
        log?.warn(
          { closeTimeoutMs },
          "the outcome consumer did not close in time (Redis unreachable?); dropping its connections",
        );
        void worker.disconnect().catch(() => {});
      }
      if (ownsConnection) connection.disconnect();
      resolveDone();
    })());
  if (options.drain) worker.on("drained", () => void close());
  const ready = worker.waitUntilReady().then(
    () => undefined,
    () => new Promise<void>(() => undefined),
  );
  return { done, ready, close };
}

/** Resolves with `value` after `ms`, without holding the process open. */
function delay<T>(ms: number, value: T): Promise<T> {
  return new Promise((resolve) => setTimeout(() => resolve(value), ms).unref());
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function eventIdOf(data: unknown): string | undefined {
  const id = (data as { eventId?: unknown } | null)?.eventId;
  return typeof id === "string" ? id : undefined;
}
