import type { ChainableCommander } from "ioredis";
import { RECORD_FIELDS, type RequestRecord } from "../../request-record/record.js";
import type { RedisConnection } from "./connection.js";
import { openRecordsKey } from "./keys.js";
import { defineScript, runScript } from "./lua-scripts.js";
import { SCRIPTS } from "./scripts.js";

/**
 * The request record in Redis: its read and the two transitions of record.ts, each one script
 * (lua/read-records.lua, queue-records.lua, complete-record.lua). Transitions that must be atomic
 * with a job write take the caller's transaction (a MULTI on a connection that ran
 * `defineRecordCommands`); the others take a connection.
 */

/**
 * A batch's keys and arguments go to the batch commands as arrays, which ioredis flattens: spread
 * into one JavaScript call, a batch of some 10,000 records overflows the call stack (RangeError).
 */
interface RecordCommands {
  pciReadRecords(numKeys: number, keys: string[], ...args: string[]): Promise<Array<Array<string | null | number>>>;
  pciQueueRecords(
    numKeys: number,
    openKey: string,
    keys: string[],
    score: string,
    createdAt: string,
    args: string[],
  ): unknown;
  pciCompleteRecord(
    key: string,
    openKey: string,
    jobId: string,
    outcome: string,
    completedAt: string,
    retentionSeconds: string,
  ): unknown;
}

/**
 * Registers the record scripts on a connection (EVALSHA after the first use). MULTIs and
 * pipelines made from that connection can then run them. Safe to call more than once.
 */
export function defineRecordCommands(redis: RedisConnection): void {
  defineScript(redis, SCRIPTS.readRecords, { readOnly: true });
  defineScript(redis, SCRIPTS.queueRecords);
  defineScript(redis, SCRIPTS.completeRecord, { numberOfKeys: 2 });
}

const commands = (target: unknown) => target as RecordCommands;

export interface ReadRecord {
  /** The record's hash, undefined where there is none. */
  hash: Record<string, string> | undefined;
  /** The record is open (queued or in progress) and its job hash is gone. */
  jobMissing: boolean;
}

/**
 * Reads records in one call (in `keys` order). `jobKeyPrefix` is the requests queue's `toKey("")`,
 * `outcomeKeyPrefix` the outcomes queue's (where a completed record without its own copy finds its outcome).
 */
export async function readRecords(
  redis: RedisConnection,
  keys: string[],
  jobKeyPrefix: string,
  outcomeKeyPrefix = "",
): Promise<ReadRecord[]> {
  defineRecordCommands(redis);
  const rows = await commands(redis).pciReadRecords(keys.length, keys, jobKeyPrefix, outcomeKeyPrefix);
  return rows.map((row) => {
    const hash = recordHashOf(row);
    return { hash: Object.keys(hash).length > 0 ? hash : undefined, jobMissing: row[RECORD_FIELDS.length] === 1 };
  });
}

/** A record's fields as the scripts' readRecord returns them (RECORD_FIELDS order, null where unset) → its hash. */
export function recordHashOf(row: ReadonlyArray<unknown>): Record<string, string> {
  const hash: Record<string, string> = {};
  RECORD_FIELDS.forEach((f, i) => {
    const v = row[i];
    if (typeof v === "string") hash[f] = v;
  });
  return hash;
}

/**
 * Open records created before `beforeMs`, oldest first, at most `limit`: the sweeper's work list.
 * `openKey` is `openRecordsKey(<a record key of the queue>)`.
 */
export async function openRecordKeys(
  redis: RedisConnection,
  openKey: string,
  beforeMs: number,
  limit: number,
): Promise<string[]> {
  return redis.zrangebyscore(openKey, "-inf", String(beforeMs), "LIMIT", 0, limit);
}

/** Removes a record from the open-records index when it is gone (expired by hand, or never completed by an older version). */
export async function forgetOpenRecord(redis: RedisConnection, recordKey: string): Promise<void> {
  await redis.zrem(openRecordsKey(recordKey), recordKey);
}

/** One more revival of the request's job (count-revival.lua); how many it has had. */
export async function countRevival(redis: RedisConnection, recordKey: string): Promise<number> {
  return Number(await runScript(redis, SCRIPTS.countRevival, [recordKey], []));
}

/**
 * (none) → queued, on `tx`: the MULTI that adds the records' jobs. The records enter the
 * open-records index. They are a batch's new records: they share its createdAt (the first's).
 */
export function queueRecords(tx: ChainableCommander, records: Array<{ key: string; record: RequestRecord }>): void {
  if (records.length === 0) return;
  const args = records.flatMap(({ record }) => NEW_RECORD_FIELDS.map((f) => record[f]));
  const createdAt = records[0]!.record.createdAt;
  commands(tx).pciQueueRecords(
    records.length + 1,
    openRecordsKey(records[0]!.key),
    records.map((r) => r.key),
    openRecordScore(createdAt),
    createdAt,
    args,
  );
}

/** The fields a new record gets from its request, in the order the scripts take them (queue-record.lua). */
export const NEW_RECORD_FIELDS = [
  "key",
  "fp",
  "payload",
  "jobId",
  "clientToken",
  "correlationId",
] as const satisfies ReadonlyArray<keyof RequestRecord>;

/** A new record's score in the open-records index: its creation time, ms (now if unreadable). */
export function openRecordScore(createdAt: string): string {
  return String(Date.parse(createdAt) || Date.now());
}

/**
 * → completed, on `tx`: the MULTI that adds the outcome event. `outcomeJson` null keeps no copy in
 * the record (the outcome is stored once, in the outcome event, which outlives the record).
 */
export function completeRecord(
  tx: ChainableCommander,
  key: string,
  completion: { jobId: string; outcomeJson: string | null; completedAt: string; retentionSeconds: number },
): void {
  commands(tx).pciCompleteRecord(
    key,
    openRecordsKey(key),
    completion.jobId,
    completion.outcomeJson ?? "",
    completion.completedAt,
    String(completion.retentionSeconds),
  );
}
