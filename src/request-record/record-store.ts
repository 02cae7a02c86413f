import type { RedisConnection } from "../queues/connection.js";
import { idempotencyRecordKey, openRecordsKey } from "./identity.js";
import { parseRecord, type RequestRecord } from "./record.js";
import { defineRecordCommands, forgetOpenRecord, markInProgress, openRecordKeys } from "./transitions.js";

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

/** What the sweeper reads and writes of the records of one requests queue. */
export interface RecordSweepStore {
  /** Open records (queued, in progress) created before `beforeMs`, oldest first; undefined where the hash is gone. */
  openRecords(beforeMs: number, limit: number): Promise<Array<{ recordKey: string; record: RequestRecord | undefined }>>;
  forgetRecord(recordKey: string): Promise<void>;
  /** One more revival of the request's job; returns how many it has had (kept in the record, `revivals`). */
  countRevival(recordKey: string): Promise<number>;
}

export function createRecordSweepStore(redis: RedisConnection, location: { prefix: string; requestsQueue: string }): RecordSweepStore {
  const openKey = openRecordsKey(idempotencyRecordKey(location.prefix, location.requestsQueue, "any"));
  return {
    async openRecords(beforeMs, limit) {
      const keys = await openRecordKeys(redis, openKey, beforeMs, limit);
      const hashes = await Promise.all(keys.map((k) => redis.hgetall(k)));
      return keys.map((recordKey, i) => ({ recordKey, record: parseRecord(hashes[i]) }));
    },
    forgetRecord: (recordKey) => forgetOpenRecord(redis, recordKey),
    countRevival: (recordKey) => redis.hincrby(recordKey, "revivals", 1),
  };
}
