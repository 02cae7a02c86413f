import type { RedisConnection } from "../queues/connection.js";
import { runScript } from "../queues/guarded-add.js";
import { idempotencyRecordKey, openRecordsKey } from "./identity.js";
import { parseRecord, type RequestRecord } from "./record.js";
import { forgetOpenRecord, openRecordKeys } from "./transitions.js";

/** What the sweeper reads and writes of the records of one requests queue. */
export interface RecordSweepStore {
  /** Open records (queued, in progress) created before `beforeMs`, oldest first; undefined where the hash is gone. */
  openRecords(
    beforeMs: number,
    limit: number,
  ): Promise<Array<{ recordKey: string; record: RequestRecord | undefined }>>;
  forgetRecord(recordKey: string): Promise<void>;
  /**
   * One more revival of the request's job; returns how many it has had (kept in the record,
   * `revivals`). A record gone meanwhile (completed and expired, deleted) is not re-created as a
   * hash holding `revivals` alone: 1 is returned and nothing written.
   */
  countRevival(recordKey: string): Promise<number>;
}

/** HINCRBY on an existing record only (HINCRBY alone would create the hash). */
const COUNT_REVIVAL_LUA = `if redis.call('EXISTS', KEYS[1]) == 0 then return 1 end
return redis.call('HINCRBY', KEYS[1], 'revivals', 1)`;

export function createRecordSweepStore(
  redis: RedisConnection,
  location: { prefix: string; requestsQueue: string },
): RecordSweepStore {
  const openKey = openRecordsKey(idempotencyRecordKey(location.prefix, location.requestsQueue, "any"));
  return {
    async openRecords(beforeMs, limit) {
      const keys = await openRecordKeys(redis, openKey, beforeMs, limit);
      const hashes = await Promise.all(keys.map((k) => redis.hgetall(k)));
      return keys.map((recordKey, i) => ({ recordKey, record: parseRecord(hashes[i]) }));
    },
    forgetRecord: (recordKey) => forgetOpenRecord(redis, recordKey),
    countRevival: async (recordKey) =>
      Number(await runScript(redis, "pciCountRevival", COUNT_REVIVAL_LUA, [recordKey], [])),
  };
}
