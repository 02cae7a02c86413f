--[[
  pciReadRecords: every record of a batch in one round trip.

    KEYS[i]  record keys (all under the queue prefix's hash tag, so one Cluster slot)
    ARGV[1]  job key prefix, `<prefix>:<requests queue>:` (BullMQ's job hash is ARGV[1] .. jobId)
    ARGV[2]  outcome job key prefix, `<prefix>:<outcomes queue>:` ('' = none)
    returns  per key: readRecord's fields (RECORD_FIELDS order, false where absent), then one more
             element: 1 when the record is open and its job hash is gone, else 0
    writes   nothing (read-only: may run on a replica, and under WATCH before a MULTI)

  The job check lets the producer give a record back its job (no record without a job).
]]
--- @include "read-record"

local out = {}
for i, key in ipairs(KEYS) do
  local values, missing = readRecord(key, ARGV[1], ARGV[2])
  values[#RECORD_FIELDS + 1] = missing
  out[i] = values
end
return out
