import type { RedisConnection } from "../queues/connection.js";
import { idempotencyRecordKey } from "./identity.js";
import { defineRecordCommands, markInProgress } from "./transitions.js";

/** The record transitions a worker makes outside a transaction: the port the consumer core uses. */
export interface RecordTracker {
  /** queued → in_progress for this job's record (no-op when it is not queued or not this job's). */
  markInProgress(idempotencyKey: string, jobId: string): Promise<void>;
}

/** The records of one requests queue, on a worker's connection. */
export function createRecordTracker(redis: RedisConnection, location: { prefix: string; requestsQueue: string }): RecordTracker {
  defineRecordCommands(redis);
  return {
    async markInProgress(idempotencyKey, jobId) {
      await markInProgress(redis, idempotencyRecordKey(location.prefix, location.requestsQueue, idempotencyKey), jobId);
    },
  };
}
