import type { RedisConnection } from "../queues/connection.js";
import { RECORD_FIELDS, type IdempotencyRecord } from "./record.js";

/**
 * Batch scripts for idempotency records: one command per batch instead of one per request (a
 * second command per job would cost a third of enqueue throughput; see bench/README.md).
 * Every key of a batch shares the queue prefix's hash tag, so this works on Redis Cluster.
 */

/**
 * pciReadRecords
 *   KEYS[i]  record keys          ARGV[1]  job key prefix ("<prefix>:<requests queue>:")
 *   returns  per key: {fields...} in RECORD_FIELDS order (false where absent), plus a last
 *            element: 1 if the record is not completed and its job hash is gone, else 0.
 *   read-only.
 */
const READ = `
local out = {}
for i, key in ipairs(KEYS) do
  local values = redis.call('HMGET', key, ${RECORD_FIELDS.map((f) => `'${f}'`).join(", ")})
  local missing = 0
  local jobId, state = values[${RECORD_FIELDS.indexOf("jobId") + 1}], values[${RECORD_FIELDS.indexOf("state") + 1}]
  if jobId and state ~= 'completed' and redis.call('EXISTS', ARGV[1] .. jobId) == 0 then missing = 1 end
  values[#values + 1] = missing
  out[i] = values
end
return out`;

/**
 * pciWriteRecords
 *   KEYS[i]  record keys          ARGV     ${RECORD_FIELDS.length} values per key, in RECORD_FIELDS order ('' = unset)
 *   writes   each record as a hash (no TTL: queued records never expire).
 */
const WRITE = `
local n = ${RECORD_FIELDS.length}
local names = { ${RECORD_FIELDS.map((f) => `'${f}'`).join(", ")} }
for i, key in ipairs(KEYS) do
  local args = {}
  for j = 1, n do
    local v = ARGV[(i - 1) * n + j]
    if v ~= '' then
      args[#args + 1] = names[j]
      args[#args + 1] = v
    end
  end
  redis.call('HSET', key, unpack(args))
end
return #KEYS`;

type WithRecordScripts = {
  pciReadRecords(numKeys: number, ...args: string[]): Promise<Array<Array<string | null | number>>>;
  pciWriteRecords(numKeys: number, ...args: string[]): unknown;
};

/** Registers both scripts on a connection (EVALSHA after the first use). */
export function defineRecordScripts(redis: RedisConnection): void {
  redis.defineCommand("pciReadRecords", { lua: READ, readOnly: true });
  redis.defineCommand("pciWriteRecords", { lua: WRITE });
}

/** Reads records (undefined where absent) and whether each open record lost its job. */
export async function readRecords(
  redis: RedisConnection,
  keys: string[],
  jobKeyPrefix: string,
): Promise<Array<{ hash: Record<string, string> | undefined; jobMissing: boolean }>> {
  const rows = await (redis as unknown as WithRecordScripts).pciReadRecords(keys.length, ...keys, jobKeyPrefix);
  return rows.map((row) => {
    const hash: Record<string, string> = {};
    RECORD_FIELDS.forEach((f, i) => {
      const v = row[i];
      if (typeof v === "string") hash[f] = v;
    });
    return { hash: Object.keys(hash).length > 0 ? hash : undefined, jobMissing: row[RECORD_FIELDS.length] === 1 };
  });
}

/** Queues the write of new records on a MULTI (or pipeline). */
export function writeRecords(multi: unknown, records: Array<{ key: string; record: IdempotencyRecord }>): void {
  if (records.length === 0) return;
  const args = records.flatMap(({ record }) => RECORD_FIELDS.map((f) => record[f] ?? ""));
  (multi as WithRecordScripts).pciWriteRecords(records.length, ...records.map((r) => r.key), ...args);
}
