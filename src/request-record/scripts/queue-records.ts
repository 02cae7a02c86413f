import { RECORD_FIELDS } from "../record.js";

/**
 * pciQueueRecords: (none) → queued, for a batch of new records.
 *
 *   KEYS[1]   the open-records index (sorted set, see identity.ts openRecordsKey)
 *   KEYS[1+i] record keys
 *   ARGV[1]   the batch's creation time, ms (the records' score in the index)
 *   ARGV[2..] ${RECORD_FIELDS.length} values per record, in RECORD_FIELDS order ('' = field unset)
 *   returns   the number of records written
 *
 * Guarantee: run inside the MULTI that adds the records' jobs, under WATCH of the same keys, so a
 * record and its job are written together or not at all, and a concurrent producer that wrote one
 * of these records first makes the EXEC fail. No TTL: a queued record never expires, and stays
 * in the open-records index until it is completed, so the sweeper can find it if its job is lost.
 */
export const QUEUE_RECORDS_LUA = `
local n = ${RECORD_FIELDS.length}
local names = { ${RECORD_FIELDS.map((f) => `'${f}'`).join(", ")} }
for i = 2, #KEYS do
  local key = KEYS[i]
  local args = {}
  for j = 1, n do
    local v = ARGV[1 + (i - 2) * n + j]
    if v ~= '' then
      args[#args + 1] = names[j]
      args[#args + 1] = v
    end
  end
  redis.call('HSET', key, unpack(args))
  redis.call('ZADD', KEYS[1], ARGV[1], key)
end
return #KEYS - 1`;
