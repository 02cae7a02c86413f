/**
 * A local what-if copy of src/outcomes/publish.ts createOutcomeQueue (snapshot of the version
 * with fenced WATCH/MULTI publishes), used only by bench/diag-steps.ts to measure candidate
 * changes before proposing them. Same Redis effects; differs only in how commands are sent:
 *
 *   txPool N        N transaction connections, each with its own mutex, instead of one connection
 *                   and one mutex for the whole process (WATCH state is per connection, so the
 *                   guarantees are unchanged; publishes of different jobs no longer queue behind
 *                   each other)
 *   pipelineWatch   WATCH and the three reads in one pipelined round trip instead of two (WATCH
 *                   first, then GET/EXISTS/HGET each written separately)
 *   evalsha         markInProgress through a defined command (EVALSHA) instead of EVAL with the
 *                   script text on every call
 *   fused           (what-if only) the outcome EXISTS check done inside the markInProgress script:
 *                   one round trip before the API call instead of two. Here exists() answers false
 *                   without Redis and the fused script does both reads, which costs the same as the
 *                   proposed `begin(jobId, idempotencyKey)` would; the "already published" answer is
 *                   not wired back (it never happens in the bench).
 */
import { Job, Queue } from "bullmq";
import type { ChainableCommander, Redis } from "ioredis";
import { idempotencyRecordKey } from "../src/idempotency/keys.js";
import { createMutex } from "../src/idempotency/mutex.js";
import type { OutcomeStore, PublishResult } from "../src/outcomes/outcome-store.js";
import { OUTCOME_ATTEMPTS, type OutcomeQueueOptions } from "../src/outcomes/publish.js";

const MARK_IN_PROGRESS = `
if redis.call('HGET', KEYS[1], 'jobId') == ARGV[1] and redis.call('HGET', KEYS[1], 'state') == 'queued' then
  redis.call('HSET', KEYS[1], 'state', 'in_progress')
  return 1
end
return 0`;

/** KEYS[1] record, KEYS[2] outcome job hash; ARGV[1] request job id. 2 = outcome exists. */
const EXISTS_AND_MARK = `
if redis.call('EXISTS', KEYS[2]) == 1 then return 2 end
if redis.call('HGET', KEYS[1], 'jobId') == ARGV[1] and redis.call('HGET', KEYS[1], 'state') == 'queued' then
  redis.call('HSET', KEYS[1], 'state', 'in_progress')
  return 1
end
return 0`;

export interface WhatIf {
  txPool: number;
  pipelineWatch: boolean;
  evalsha: boolean;
  fused: boolean;
}

type Scripted = Redis & {
  pciMarkInProgress(key: string, jobId: string): Promise<number>;
  pciExistsAndMark(recordKey: string, outcomeKey: string, jobId: string): Promise<number>;
};

export function createOutcomeQueueWhatIf(opts: OutcomeQueueOptions, w: WhatIf): OutcomeStore & { close(): Promise<void> } {
  const defaultJobOptions = {
    attempts: OUTCOME_ATTEMPTS,
    backoff: { type: "outcome" },
    removeOnComplete: { age: opts.retentionSeconds },
    removeOnFail: false,
  };
  const queue = new Queue(opts.queueName, { connection: opts.connection, prefix: opts.prefix, defaultJobOptions });
  // A connection of our own for the scripts (defineCommand changes the instance it is called on).
  const scripted = opts.connection.duplicate() as Scripted;
  scripted.defineCommand("pciMarkInProgress", { numberOfKeys: 1, lua: MARK_IN_PROGRESS });
  scripted.defineCommand("pciExistsAndMark", { numberOfKeys: 2, lua: EXISTS_AND_MARK });
  const pool = Array.from({ length: Math.max(1, w.txPool) }, () => {
    const tx = opts.connection.duplicate();
    return { tx, txQueue: new Queue(opts.queueName, { connection: tx, prefix: opts.prefix, defaultJobOptions }), exclusive: createMutex(), pending: 0 };
  });
  const lockKey = (jobId: string) => `${opts.prefix}:${opts.requestsQueueName}:${jobId}:lock`;
  const recordKey = (key: string) => idempotencyRecordKey(opts.prefix, opts.requestsQueueName, key);

  return {
    async exists(requestId) {
      if (w.fused) return false;
      return (await opts.connection.exists(queue.toKey(requestId))) === 1;
    },
    async markInProgress(idempotencyKey, requestId) {
      if (!idempotencyKey) return;
      if (w.fused) await scripted.pciExistsAndMark(recordKey(idempotencyKey), queue.toKey(requestId), requestId);
      else if (w.evalsha) await scripted.pciMarkInProgress(recordKey(idempotencyKey), requestId);
      else await opts.connection.eval(MARK_IN_PROGRESS, 1, recordKey(idempotencyKey), requestId);
    },
    publish(event, options = {}) {
      const slot = pool.reduce((a, b) => (b.pending < a.pending ? b : a));
      slot.pending++;
      const { tx, txQueue } = slot;
      return slot
        .exclusive(async (): Promise<PublishResult> => {
          const outcomeKey = txQueue.toKey(event.requestId);
          const recKey = options.idempotencyKey ? recordKey(options.idempotencyKey) : undefined;
          for (let attempt = 0; attempt < 20; attempt++) {
            const watched = [outcomeKey, ...(options.fence ? [lockKey(options.fence.jobId)] : []), ...(recKey ? [recKey] : [])];
            let lock: string | null = null;
            let outcomeExists: number;
            let recordJobId: string | null = null;
            if (w.pipelineWatch) {
              const p = tx.pipeline().watch(...watched);
              if (options.fence) p.get(lockKey(options.fence.jobId));
              p.exists(outcomeKey);
              if (recKey) p.hget(recKey, "jobId");
              const replies = (await p.exec()) ?? [];
              const err = replies.find(([e]) => e);
              if (err) throw err[0];
              let i = 1;
              if (options.fence) lock = replies[i++]![1] as string | null;
              outcomeExists = replies[i++]![1] as number;
              if (recKey) recordJobId = replies[i++]![1] as string | null;
            } else {
              await tx.watch(...watched);
              [lock, outcomeExists, recordJobId] = await Promise.all([
                options.fence ? tx.get(lockKey(options.fence.jobId)) : Promise.resolve(null),
                tx.exists(outcomeKey),
                recKey ? tx.hget(recKey, "jobId") : Promise.resolve(null),
              ]);
            }
            if (options.fence && lock !== options.fence.token) {
              await tx.unwatch();
              return "fenced";
            }
            if (outcomeExists === 1) {
              await tx.unwatch();
              return "already-published";
            }
            const client = await txQueue.client;
            const multi = client.multi() as unknown as ChainableCommander;
            void new Job(txQueue, event.type, event, { ...defaultJobOptions, jobId: event.requestId }, event.requestId)
              .addJob(multi as never)
              .catch(() => undefined);
            if (recKey && recordJobId === event.requestId) {
              multi.hset(recKey, { state: "completed", outcome: JSON.stringify(event), completedAt: event.completedAt } as never);
              multi.expire(recKey, opts.idempotencyRetentionSeconds);
            }
            const res = await multi.exec();
            if (res === null) continue;
            const failed = res.find(([err]) => err);
            if (failed) throw failed[0];
            return "published";
          }
          throw new Error(`could not publish the outcome of ${event.requestId}: too much contention`);
        })
        .finally(() => slot.pending--);
    },
    async close() {
      for (const s of pool) {
        await s.txQueue.close();
        s.tx.disconnect();
      }
      await queue.close();
      scripted.disconnect();
    },
  };
}
