import type { Queue, Telemetry } from "bullmq";
import type { RedisConnection } from "../queues/connection.js";
import { jobLockKey } from "../queues/job-lock.js";
import { addJobInTransaction, createTxQueue, producerSpan } from "../queues/transaction.js";
import { idempotencyRecordKey } from "../request-record/identity.js";
import { completeRecord, defineRecordCommands } from "../request-record/transitions.js";
import type { OutcomeStore, PublishResult } from "./outcome-store.js";

/**
 * Outcome jobs are retried by consumers until their handler succeeds (see consumeOutcomes);
 * this many attempts is "practically forever", and a job that still fails stays in the failed
 * set, never deleted.
 */
export const OUTCOME_ATTEMPTS = 1_000_000;

export interface OutcomeQueueOptions {
  /** A connection of the caller's; a dedicated duplicate is made for the fenced transactions. */
  connection: RedisConnection;
  prefix: string;
  queueName: string;
  /** Requests queue: where the job locks and request records live. */
  requestsQueueName: string;
  /** Consumed outcome events are kept this long, s. */
  retentionSeconds: number;
  /** Completed request records are kept this long, s. */
  idempotencyRetentionSeconds: number;
  /** BullMQ telemetry: each publish is a PRODUCER span whose context the outcome job carries. */
  telemetry?: Telemetry;
}

const MAX_TRIES = 20;

/**
 * Publishes outcome events as jobs of the outcomes queue (job id = requestId) in one MULTI with
 * the completion of the request's record, under WATCH of the request job's lock and of the
 * outcome's key. Guarantees:
 * - at most one outcome per request: an existing outcome is never overwritten or repeated;
 * - a worker that lost the job's lock (its lock token no longer in Redis) publishes nothing;
 * - the record says `completed` exactly when the outcome exists (completeRecord in the same EXEC).
 */
export function createOutcomeQueue(opts: OutcomeQueueOptions): OutcomeStore & { queue: Queue; close(): Promise<void> } {
  const queueOptions = {
    prefix: opts.prefix,
    defaultJobOptions: {
      attempts: OUTCOME_ATTEMPTS,
      backoff: { type: "outcome" },
      removeOnComplete: { age: opts.retentionSeconds },
      removeOnFail: false,
    },
    ...(opts.telemetry ? { telemetry: opts.telemetry } : {}),
  };
  // The outcome is stored once, in the outcome event, when that outlives the record (it is kept
  // RETENTION_SECONDS after it is consumed; the record IDEMPOTENCY_RETENTION_SECONDS after it is
  // published). Otherwise the record keeps a copy to answer re-submissions with.
  const recordKeepsOutcome = opts.idempotencyRetentionSeconds > opts.retentionSeconds;
  const tx = createTxQueue(opts.connection, opts.queueName, { ...queueOptions, onConnection: defineRecordCommands });
  const txQueue = tx.queue;

  return {
    queue: txQueue,
    async exists(requestId) {
      return (await opts.connection.exists(txQueue.toKey(requestId))) === 1;
    },
    publish(event, options = {}) {
      return tx.exclusive(({ queue: sessionQueue, redis, multi: openMulti }) =>
        producerSpan(sessionQueue, "add", `${opts.queueName}.${event.type}`, async (telemetryMetadata): Promise<PublishResult> => {
          const outcomeKey = txQueue.toKey(event.requestId);
          const lockKey = options.fence ? jobLockKey(opts.prefix, opts.requestsQueueName, options.fence.jobId) : undefined;
          const jobOpts = { ...queueOptions.defaultJobOptions, ...(telemetryMetadata ? { telemetry: { metadata: telemetryMetadata } } : {}) };
          for (let attempt = 0; attempt < MAX_TRIES; attempt++) {
            // WATCH and the reads go out together: one connection keeps their order.
            const [, lock, outcomeExists] = await Promise.all([
              lockKey ? redis.watch(outcomeKey, lockKey) : redis.watch(outcomeKey),
              lockKey ? redis.get(lockKey) : Promise.resolve(null),
              redis.exists(outcomeKey),
            ]);
            if (options.fence && lock !== options.fence.token) {
              await redis.unwatch();
              return "fenced";
            }
            if (outcomeExists === 1) {
              await redis.unwatch();
              return "already-published";
            }
            const multi = await openMulti();
            addJobInTransaction(sessionQueue, multi, { name: event.type, data: event, opts: jobOpts, jobId: event.requestId });
            if (options.idempotencyKey) {
              completeRecord(multi, idempotencyRecordKey(opts.prefix, opts.requestsQueueName, options.idempotencyKey), {
                jobId: event.requestId,
                outcomeJson: recordKeepsOutcome ? JSON.stringify(event) : null,
                completedAt: event.completedAt,
                retentionSeconds: opts.idempotencyRetentionSeconds,
              });
            }
            const res = await multi.exec();
            if (res === null) continue; // lock or outcome changed under us: look again
            const failed = res.find(([err]) => err);
            if (failed) throw failed[0];
            return "published";
          }
          throw new Error(`could not publish the outcome of ${event.requestId}: too much contention`);
        }),
      );
    },
    close: () => tx.close(),
  };
}
