import { RECORD_FIELDS } from "../record.js";

/**
 * pciQueueRecords: (none) → queued, for a batch of new records.
 *
 *   KEYS[i]  record keys
 *   ARGV     ${RECORD_FIELDS.length} values per key, in RECORD_FIELDS order ('' = field unset)
 *   returns  the number of records written
 *
 * Guarantee: run inside the MULTI that adds the records' jobs, under WATCH of the same keys, so a
 * record and its job are written together or not at all, and a concurrent producer that wrote one
 * of these records first makes the EXEC fail. No TTL: a queued record never expires.
 */
export const QUEUE_RECORDS_LUA = `
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
