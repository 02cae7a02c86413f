import type { RequestRecord } from "../record.js";

/** The fields a new record gets from its request, in the order the scripts take them. */
export const NEW_RECORD_FIELDS = [
  "key",
  "fp",
  "payload",
  "jobId",
  "clientToken",
  "correlationId",
] as const satisfies ReadonlyArray<keyof RequestRecord>;

/**
 * (none, or a hash that is not a record: see IS_RECORD_FN) → queued for one record, as a Lua function, for scripts
 * that write a record alongside
 * its job (pciQueueRecords below; the producer's enqueue, producer/enqueue-script.ts):
 * `queueRecord(key, openKey, score, values, from, createdAt)` writes the record with the
 * ${NEW_RECORD_FIELDS.length} values `values[from ..]` (NEW_RECORD_FIELDS order), state `queued` and
 * `createdAt`, and enters it in the open-records index with `score` (its creation time, ms).
 */
export const QUEUE_RECORD_FN = `
local function queueRecord(key, openKey, score, v, from, createdAt)
  redis.call('HSET', key, ${NEW_RECORD_FIELDS.map((f, i) => `'${f}', v[from + ${i}]`).join(", ")}, 'state', 'queued', 'createdAt', createdAt)
  redis.call('ZADD', openKey, score, key)
end`;

/**
 * pciQueueRecords: (none) → queued, for a batch of new records.
 *
 *   KEYS[1]   the open-records index (sorted set, see identity.ts openRecordsKey)
 *   KEYS[1+i] record keys
 *   ARGV[1]   the batch's creation time, ms (the records' score in the index)
 *   ARGV[2]   the batch's creation time, ISO-8601 (the records' createdAt)
 *   ARGV[3..] ${NEW_RECORD_FIELDS.length} values per record, in NEW_RECORD_FIELDS order
 *   returns   the number of records written
 *
 * A key may hold a hash that is not a record and that no live request owns (record.ts
 * isReplaceable: the caller judged it as none): it is deleted first, so the record is written
 * whole, without the stray fields.
 *
 * Guarantee: run inside the MULTI that adds the records' jobs, under WATCH of the same keys, so a
 * record and its job are written together or not at all, and a concurrent producer that wrote one
 * of these records first makes the EXEC fail. No TTL: a queued record never expires, and stays
 * in the open-records index until it is completed, so the sweeper can find it if its job is lost.
 */
export const QUEUE_RECORDS_LUA = `
${QUEUE_RECORD_FN}
for i = 2, #KEYS do
  redis.call('DEL', KEYS[i])
  queueRecord(KEYS[i], KEYS[1], ARGV[1], ARGV, 3 + (i - 2) * ${NEW_RECORD_FIELDS.length}, ARGV[2])
end
return #KEYS - 1`;
