import type { Queue, Telemetry } from "bullmq";
import type { OutcomeEvent } from "../../contracts/outcome.js";
import type { PublishResult } from "../request-store.js";
import { addJobArguments } from "./bullmq-add.js";
import type { RedisConnection } from "./connection.js";
import { idempotencyRecordKey, jobLockKey, openRecordsKey, outcomeLogKey } from "./keys.js";
import { runScript } from "./lua-scripts.js";
import { appendLogInTransaction, logEntryArgs, logMinId } from "./outcome-log.js";
import { completeRecord, defineRecordCommands } from "./records.js";
import { SCRIPTS } from "./scripts.js";
import { addJobInTransaction, createTxQueue, producerSpan } from "./transaction.js";

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

/** The outcomes queue: publication by a run (fenced) and by a cancel (unless started). */
export interface OutcomeQueue {
  readonly queue: Queue;
  exists(requestId: string): Promise<boolean>;
  publish(
    event: OutcomeEvent,
    options?: { fence?: { jobId: string; token: string }; idempotencyKey?: string },
  ): Promise<PublishResult>;
  /**
   * Publishes the outcome of a request whose job no run has taken (waiting, delayed, prioritized:
   * its lock does not exist) and completes its record, in one MULTI under WATCH of the job's lock
   * and the outcome key; `jobState` (BullMQ's state of the job) is read after the WATCH. A job
   * that a run takes meanwhile writes its lock, which makes the EXEC fail and the state be read
   * again. `{ started: state }` when the job is active or finished.
   */
  publishUnlessStarted(
    event: OutcomeEvent,
    options: { idempotencyKey?: string; jobState(): Promise<string> },
  ): Promise<PublishResult | { started: string }>;
  close(): Promise<void>;
}

/**
 * Publishes outcome events as jobs of the outcomes queue (job id = requestId) atomically with the
 * completion of the request's record: a run's in one script (lua/publish-outcome.lua), a cancel's in
 * one MULTI under WATCH of the request job's lock and of the outcome's key. Guarantees:
 * - at most one outcome per request: an existing outcome is never overwritten or repeated;
 * - a worker that lost the job's lock (its lock token no longer in Redis) publishes nothing;
 * - a cancel publishes only while no run holds the job (publishUnlessStarted);
 * - the record says `completed` exactly when the outcome exists (completeRecord in the same EXEC);
 * - the outcome log (keys.ts outcomeLogKey) holds the event exactly when it was published (appended
 *   in the same script or EXEC), kept IDEMPOTENCY_RETENTION_SECONDS.
 */
export function createOutcomeQueue(opts: OutcomeQueueOptions): OutcomeQueue {
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
  const logKey = outcomeLogKey(opts.prefix, opts.queueName);
  const recordKeyOf = (idempotencyKey: string) =>
    idempotencyRecordKey(opts.prefix, opts.requestsQueueName, idempotencyKey);

  /**
   * A cancel's publication (a run's is one script): under WATCH of the outcome's key and of the
   * request job's lock key, `admit` looks at the lock's value (read after the WATCH) and either lets
   * the publication go on (undefined) or refuses it with its own answer; then one MULTI adds the
   * outcome job and completes the record. Whatever changes the lock or the outcome before EXEC
   * makes it look again.
   */
  function publishGuarded<R extends string | object>(
    event: OutcomeEvent,
    guard: { idempotencyKey?: string; admit(lock: string | null): Promise<R | undefined> },
  ): Promise<PublishResult | R> {
    return tx.exclusive(({ queue: sessionQueue, redis, multi: openMulti }) =>
      producerSpan(
        sessionQueue,
        "add",
        `${opts.queueName}.${event.type}`,
        async (telemetryMetadata): Promise<PublishResult | R> => {
          const outcomeKey = txQueue.toKey(event.requestId);
          const lockKey = jobLockKey(opts.prefix, opts.requestsQueueName, event.requestId);
          const jobOpts = {
            ...queueOptions.defaultJobOptions,
            ...(telemetryMetadata ? { telemetry: { metadata: telemetryMetadata } } : {}),
          };
          for (let attempt = 0; attempt < MAX_TRIES; attempt++) {
            // WATCH and the reads go out together: one connection keeps their order.
            const [, lock, outcomeExists] = await Promise.all([
              redis.watch(outcomeKey, lockKey),
              redis.get(lockKey),
              redis.exists(outcomeKey),
            ]);
            // The outcome first: a request that has one answers with it, whatever its job's state
            // now (a second cancel at once finds the first's outcome, not the job it removed).
            if (outcomeExists === 1) {
              await redis.unwatch();
              return "already-published";
            }
            const refused = await guard.admit(lock);
            if (refused !== undefined) {
              await redis.unwatch();
              // The job may have moved on because another publication (a second cancel at once) just
              // wrote the outcome and removed it: that outcome is the answer, not the job's new state.
              if ((await redis.exists(outcomeKey)) === 1) return "already-published";
              return refused;
            }
            const multi = await openMulti();
            addJobInTransaction(sessionQueue, multi, {
              name: event.type,
              data: event,
              opts: jobOpts,
              jobId: event.requestId,
            });
            appendLogInTransaction(multi, logKey, "outcome", event, opts.idempotencyRetentionSeconds);
            if (guard.idempotencyKey) {
              completeRecord(multi, recordKeyOf(guard.idempotencyKey), {
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
        },
      ),
    );
  }

  return {
    queue: txQueue,
    async exists(requestId) {
      return (await opts.connection.exists(txQueue.toKey(requestId))) === 1;
    },
    // A run's publication: one script (lua/publish-outcome.lua) where a cancel's needs a transaction.
    publish(event, options = {}) {
      const fence = options.fence;
      return producerSpan(
        txQueue,
        "add",
        `${opts.queueName}.${event.type}`,
        async (telemetryMetadata): Promise<PublishResult> => {
          const outcomeKey = txQueue.toKey(event.requestId);
          const recordKey = options.idempotencyKey ? recordKeyOf(options.idempotencyKey) : undefined;
          const jobOpts = {
            ...queueOptions.defaultJobOptions,
            ...(telemetryMetadata ? { telemetry: { metadata: telemetryMetadata } } : {}),
          };
          const bull = addJobArguments(txQueue, {
            name: event.type,
            data: event,
            opts: jobOpts,
            jobId: event.requestId,
          });
          const keys = [
            outcomeKey,
            fence ? jobLockKey(opts.prefix, opts.requestsQueueName, fence.jobId) : outcomeKey,
            recordKey ?? outcomeKey,
            recordKey ? openRecordsKey(recordKey) : outcomeKey,
            logKey,
          ];
          const args = [
            // A run whose token is no longer the lock's has lost the job: it publishes nothing.
            fence?.token ?? "",
            event.requestId,
            recordKey ? "1" : "0",
            recordKeepsOutcome ? JSON.stringify(event) : "",
            event.completedAt,
            String(opts.idempotencyRetentionSeconds),
            logMinId(opts.idempotencyRetentionSeconds),
            // kind is the script's own ('outcome'): the entry's other fields and the event JSON.
            ...logEntryArgs("outcome", event).slice(1),
          ];
          const answer = await runScript(
            opts.connection,
            SCRIPTS.publishOutcome,
            [...bull.keys, ...keys],
            [...bull.args, ...args],
          );
          if (answer === "pci:fenced") return "fenced";
          if (answer === "pci:already-published") return "already-published";
          if (answer !== event.requestId) {
            throw new Error(`publishing the outcome of ${event.requestId}: unexpected answer ${String(answer)}`);
          }
          return "published";
        },
      );
    },
    publishUnlessStarted(event, options) {
      return publishGuarded(event, {
        ...(options.idempotencyKey ? { idempotencyKey: options.idempotencyKey } : {}),
        // A run holds the job (its lock exists), or the job has moved on: too late to cancel.
        admit: async (lock) => {
          if (lock !== null) return { started: "active" };
          const state = await options.jobState();
          return NOT_STARTED.has(state) ? undefined : { started: state };
        },
      });
    },
    close: () => tx.close(),
  };
}

/** BullMQ states of a job no run has taken yet. */
const NOT_STARTED = new Set(["waiting", "delayed", "prioritized"]);
