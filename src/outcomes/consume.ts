import { UnrecoverableError, Worker, type Job, type Telemetry } from "bullmq";
import { createRedis, type RedisConnection } from "../queues/connection.js";
import { DEFAULT_QUEUE_LOCATION } from "../queues/queue-names.js";
import { outcomeEventSchema, type OutcomeEvent } from "../schemas/outcome.js";

export interface ConsumeOutcomesOptions {
  /** An ioredis Redis or Cluster (not closed here) or a URL. @defaultValue redis://127.0.0.1:6379 */
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
  /** Resolve `done` and stop once the queue has no waiting outcome (one-shot drain). @defaultValue false */
  drain?: boolean;
  onError?: (error: unknown, event: unknown) => void;
  /** BullMQ telemetry: each handled event is a CONSUMER span, a child of the worker run that published it. */
  telemetry?: Telemetry;
}

export interface OutcomeConsumer {
  /** Resolves when the consumer stopped (drained in drain mode, or close() was called). */
  done: Promise<void>;
  close(): Promise<void>;
}

/**
 * Calls `handler` once per outcome event. When the handler throws, the event is retried later
 * with exponential backoff (capped), never dropped; an event is acknowledged only when the
 * handler resolved. Delivery is at-least-once: a crash after the handler but before the ack
 * replays that event, so handlers should be idempotent on `eventId`.
 */
export function consumeOutcomes(
  handler: (event: OutcomeEvent) => Promise<void> | void,
  options: ConsumeOutcomesOptions = {},
): OutcomeConsumer {
  const ownsConnection = typeof options.redis !== "object";
  const connection = typeof options.redis === "object" ? options.redis : createRedis(options.redis ?? "redis://127.0.0.1:6379");
  const base = options.retryDelayMs ?? 1000;
  const cap = options.maxRetryDelayMs ?? 60_000;
  const worker = new Worker(
    options.queueName ?? DEFAULT_QUEUE_LOCATION.outcomesQueue,
    async (job: Job) => {
      const parsed = outcomeEventSchema.safeParse(job.data);
      // A malformed event can never succeed: park it in the failed set (kept, visible) at once.
      if (!parsed.success) throw new UnrecoverableError(`outcome ${job.id} does not match the outcome schema`);
      const event = parsed.data;
      try {
        await handler(event);
      } catch (err) {
        options.onError?.(err, event);
        throw err;
      }
    },
    {
      connection,
      prefix: options.prefix ?? DEFAULT_QUEUE_LOCATION.prefix,
      concurrency: options.concurrency ?? 1,
      ...(options.telemetry ? { telemetry: options.telemetry } : {}),
      settings: { backoffStrategy: (attemptsMade: number) => Math.min(cap, base * 2 ** Math.max(0, attemptsMade - 1)) },
    },
  );
  worker.on("error", () => {});

  let resolveDone!: () => void;
  const done = new Promise<void>((r) => (resolveDone = r));
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      await worker.close();
      if (ownsConnection) connection.disconnect();
      resolveDone();
    })());
  if (options.drain) worker.on("drained", () => void close());
  return { done, close };
}
