--[[
  pciQueueRecords: (none) -> queued, for a batch of new records.

    KEYS[1]    the open-records index (sorted set of record keys by creation time)
    KEYS[1+i]  record keys
    ARGV[1]    the batch's creation time, ms (the records' score in the index)
    ARGV[2]    the batch's creation time, ISO-8601 (the records' createdAt)
    ARGV[3..]  six values per record, in NEW_RECORD_FIELDS order (queue-record.lua)
    returns    the number of records written

  A key may hold a hash that is not a record and that no live request owns (record.ts
  isReplaceable: the caller judged it as none): it is deleted first, so the record is written
  whole, without the stray fields.

  Guarantee: run inside the MULTI that adds the records' jobs, under WATCH of the same keys, so a
  record and its job are written together or not at all, and a concurrent producer that wrote one
  of these records first makes the EXEC fail.
]]
--- @include "queue-record"

for i = 2, #KEYS do
  redis.call('DEL', KEYS[i])
  queueRecord(KEYS[i], KEYS[1], ARGV[1], ARGV, 3 + (i - 2) * NEW_RECORD_FIELD_COUNT, ARGV[2])
end
return #KEYS - 1
