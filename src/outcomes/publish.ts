import { Job, Queue } from "bullmq";
import type { ChainableCommander } from "ioredis";
import { duplicateConnection, type RedisConnection } from "../queues/connection.js";
import { idempotencyRecordKey } from "../idempotency/keys.js";
import { createMutex } from "../idempotency/mutex.js";
import type { OutcomeStore, PublishResult } from "./outcome-store.js";

/**
 * Outcome jobs are retried by consumers until their handler succeeds (see consumeOutcomes);
 * this many attempts is "practically forever", and a job that still fails stays in the failed
 * set, never deleted.
 */
export const OUTCOME_ATTEMPTS = 1_000_000;

const MARK_IN_PROGRESS = `
-- KEYS[1] idempotency record   ARGV[1] request job id
-- queued → in_progress, only for the record's own job; a completed record never goes back.
if redis.call('HGET', KEYS[1], 'jobId') == ARGV[1] and redis.call('HGET', KEYS[1], 'state') == 'queued' then
  redis.call('HSET', KEYS[1], 'state', 'in_progress')
  return 1
end
return 0`;

export interface OutcomeQueueOptions {
  /** A connection of the caller's; a dedicated duplicate is made for the fenced transactions. */
  connection: RedisConnection;
  prefix: string;
  queueName: string;
  /** Requests queue: where the job locks and idempotency records live. */
  requestsQueueName: string;
  /** Consumed outcome events are kept this long, s. */
  retentionSeconds: number;
  /** Completed idempotency records are kept this long, s. */
  idempotencyRetentionSeconds: number;
}

/**
 * Publishes outcome events as jobs of the outcomes queue (job id = requestId) in one MULTI with
 * the completion of the request's idempotency record, under WATCH of the request job's lock and
 * of the outcome's key. Guarantees:
 * - at most one outcome per request: an existing outcome is never overwritten or repeated;
 * - a worker that lost the job's lock (its lock token no longer in Redis) publishes nothing;
 * - the record says `completed` exactly when the outcome exists.
 */
export function createOutcomeQueue(opts: OutcomeQueueOptions): OutcomeStore & { queue: Queue; close(): Promise<void> } {
  const defaultJobOptions = {
    attempts: OUTCOME_ATTEMPTS,
    backoff: { type: "outcome" },
    removeOnComplete: { age: opts.retentionSeconds },
    removeOnFail: false,
  };
  const queue = new Queue(opts.queueName, { connection: opts.connection, prefix: opts.prefix, defaultJobOptions });
  const tx = duplicateConnection(opts.connection);
  const txQueue = new Queue(opts.queueName, { connection: tx, prefix: opts.prefix, defaultJobOptions });
  const exclusive = createMutex();
  // EVALSHA after the first call, not the script text every time.
  opts.connection.defineCommand("pciMarkInProgress", { numberOfKeys: 1, lua: MARK_IN_PROGRESS });
  const markInProgress = (key: string, requestId: string) =>
    (opts.connection as unknown as { pciMarkInProgress(k: string, id: string): Promise<number> }).pciMarkInProgress(key, requestId);
  const lockKey = (jobId: string) => `${opts.prefix}:${opts.requestsQueueName}:${jobId}:lock`;
  const recordKey = (key: string) => idempotencyRecordKey(opts.prefix, opts.requestsQueueName, key);

  return {
    queue,
    async exists(requestId) {
      return (await opts.connection.exists(queue.toKey(requestId))) === 1;
    },
    async markInProgress(idempotencyKey, requestId) {
      if (idempotencyKey) await markInProgress(recordKey(idempotencyKey), requestId);
    },
    publish(event, options = {}) {
      return exclusive(async (): Promise<PublishResult> => {
        const outcomeKey = txQueue.toKey(event.requestId);
        const recKey = options.idempotencyKey ? recordKey(options.idempotencyKey) : undefined;
        for (let attempt = 0; attempt < 20; attempt++) {
          const watched = [outcomeKey, ...(options.fence ? [lockKey(options.fence.jobId)] : []), ...(recKey ? [recKey] : [])];
          // WATCH and the reads go out together: one connection keeps their order.
          const [, lock, outcomeExists, recordJobId] = await Promise.all([
            tx.watch(...watched),
            options.fence ? tx.get(lockKey(options.fence.jobId)) : Promise.resolve(null),
            tx.exists(outcomeKey),
            recKey ? tx.hget(recKey, "jobId") : Promise.resolve(null),
          ]);
          if (options.fence && lock !== options.fence.token) {
            await tx.unwatch();
            return "fenced";
          }
          if (outcomeExists === 1) {
            await tx.unwatch();
            return "already-published";
          }
          const client = await txQueue.getBackend().client;
          const multi = client.multi() as unknown as ChainableCommander;
          void new Job(txQueue, event.type, event, { ...defaultJobOptions, jobId: event.requestId }, event.requestId)
            .addJob(multi as never)
            .catch(() => undefined);
          if (recKey && recordJobId === event.requestId) {
            multi.hset(recKey, { state: "completed", outcome: JSON.stringify(event), completedAt: event.completedAt } as never);
            multi.expire(recKey, opts.idempotencyRetentionSeconds);
          }
          const res = await multi.exec();
          if (res === null) continue; // lock, outcome or record changed under us: look again
          const failed = res.find(([err]) => err);
          if (failed) throw failed[0];
          return "published";
        }
        throw new Error(`could not publish the outcome of ${event.requestId}: too much contention`);
      });
    },
    async close() {
      await txQueue.waitUntilReady().catch(() => undefined);
      await txQueue.close();
      await queue.close();
      tx.disconnect();
    },
  };
}
