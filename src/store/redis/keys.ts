import { hash } from "node:crypto";

/**
 * Every Redis key of pc-invitations outside BullMQ's own queue keys and the rate limiter's
 * (ratelimit/limit-settings.ts rateLimitRedisKey). All live under the queue prefix, so one hash
 * tag covers them on Redis Cluster. Nothing outside src/store names a key.
 */

/**
 * BullMQ's lock of a job: the string key `<prefix>:<queue>:<jobId>:lock`, holding the token of the
 * worker run that owns the job (the `token` a processor receives) for `lockDuration` ms, renewed
 * while the run lives. A run whose token is no longer there has lost the job to another worker.
 *
 * This is BullMQ's internal layout, not its API: test/integration/job-lock.test.ts fails if a
 * BullMQ upgrade moves it, because the outcome fence (lua/publish-outcome.lua) reads this key and
 * a cancel (publish.ts publishUnlessStarted) WATCHes it.
 */
export function jobLockKey(prefix: string, queueName: string, jobId: string): string {
  return `${prefix}:${queueName}:${jobId}:lock`;
}

/**
 * Redis key of a request record, inside the queue prefix so one hash tag covers it on Redis
 * Cluster. The caller's key is hashed: any length or character set stays a short, safe key.
 */
export function idempotencyRecordKey(prefix: string, queueName: string, idempotencyKey: string): string {
  return `${prefix}:${queueName}:idem:${hash("sha256", idempotencyKey, "base64url")}`;
}

/**
 * The index of open records (queued or in progress) of a requests queue: a sorted set of record
 * keys by creation time, kept by the record scripts, read by the sweeper. Derived from a record
 * key, so a record and its index always share the prefix (and the Cluster slot).
 */
export function openRecordsKey(recordKey: string): string {
  return `${recordKey.slice(0, recordKey.lastIndexOf(":idem:"))}:idem-open`;
}

/** The open-records index of a requests queue. */
export function openRecordsKeyOf(prefix: string, queueName: string): string {
  return `${prefix}:${queueName}:idem-open`;
}

/** The sweeper's lease (one sweeping process of the fleet at a time) and its failed-jobs cursor. */
export function sweeperKeys(prefix: string, queueName: string): { lease: string; cursor: string } {
  return { lease: `${prefix}:${queueName}:sweeper-lease`, cursor: `${prefix}:${queueName}:sweeper-cursor` };
}

/** The discovery schedule's lock (one scheduler changes the fleet's schedule at a time). */
export function scheduleLockKey(prefix: string, queueName: string): string {
  return `${prefix}:${queueName}:schedule-lock`;
}

/**
 * A key in the queue prefix's slot that the start-up write probe names but never writes
 * (connection.ts probeWrites).
 */
export function writeProbeKey(prefix: string): string {
  return `${prefix}:write-probe`;
}

/** A worker process's own probe key: a short-lived SET that a full Redis refuses (write-gate.ts). */
export function processProbeKey(prefix: string, host: string, pid: number): string {
  return `${prefix}:probe:${host}:${pid}`;
}
