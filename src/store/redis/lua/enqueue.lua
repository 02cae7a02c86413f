#!lua
--[[
  pciEnqueue: a batch of submissions judged against their records, and the new ones' records and
  jobs written, in ONE script: no WATCH, no MULTI, one round trip, on the producer's own (shared,
  pipelined) connection.

    KEYS[1..NB]     BullMQ's addStandardJob keys for the requests queue (the same for every job)
    KEYS[NB+1]      the open-records index
    KEYS[NB+1+i]    item i's record key (a key may repeat within a batch)
    KEYS[NB+1+n+i]  item i's invitation index (keys.ts identifierIndexKey), n = the batch's size
    ARGV[1]         job key prefix (`<prefix>:<queue>:`)   ARGV[2]  outcome job key prefix ('' = none)
    ARGV[3]         the records' score in the open-records index (creation time, ms)
    ARGV[4]         the records' createdAt (ISO-8601; a batch's requests share it)
    ARGV[5]         how long an invitation index is kept after its last new job, ms
    ARGV[5 + (i-1)*S + 1 ..]  item i: its would-be record's six fields (NEW_RECORD_FIELDS order),
                    then BullMQ's three add arguments for its job (S = 6 + 3)
    returns         { 'ok', per item: 'new' | the existing record's fields (a duplicate) | j (a
                    duplicate of item j, new in this batch) }
                    { 'conflict', i, the record's fields | j }: item i's payload differs from its
                    record's (or from item j's, earlier in the batch): nothing written
                    { 'job-missing' }: a duplicate's record is open and its job is gone: nothing
                    written (the caller gives the job back with a transaction, reserve.ts)
                    { 'unreadable', i, the hash's fields }: item i's key holds a hash that is not a
                    record and names a live job: nothing written

  A record key holding a hash that is not a record (isRecord: a field missing, an unknown state, a
  stray field alone) is judged as no record, and replaced whole when the batch is written, if no
  live request can own it (isReplaceable: it names no job, or its job is gone); otherwise the reply
  is { 'unreadable', i, its fields }, nothing written (RecordUnreadableError). `preview` and the
  transaction judge alike (record.ts). The check is the schema's, so every row this script returns
  as a record parses as one in Node.

  BullMQ's add is not asked what it did: with a request job's options (no parent, no deduplication,
  a job id made fresh for the request) it always adds the job. An option that lets it refuse or
  deduplicate would need its own check before the writes (a Lua error does not undo the writes made
  before it).

  Each new job's id goes into its invitation's index (scored by ARGV[3]), whose TTL starts again
  (ARGV[5]): the listing of an invitation's requests reads it (list-requests.ts).

  Guarantees: judged first, written after, so a conflict anywhere refuses the whole batch; a record
  and its job are written together (one script) or not at all: the shebang makes a full Redis
  refuse the script before it runs. A concurrent producer's script runs before or after this one,
  never between its read and its writes, so two submissions of one key make one job.
]]
--- @include "bullmq:addStandardJob"
--- @include "read-record"
--- @include "queue-record"

-- NB: BullMQ's addStandardJob key count (test/unit/lua-scripts.test.ts checks it against the
-- installed BullMQ). S: the arguments of one item.
local NB = 9
local S = NEW_RECORD_FIELD_COUNT + 3
local ITEM_FP = 2 -- fp's position among an item's six record fields
local ITEM_JOB_ID = 4 -- jobId's
local bullKeys = { unpack(KEYS, 1, NB) }
local openKey = KEYS[NB + 1]
local n = (#KEYS - NB - 1) / 2
local A = 5 -- the arguments before the first item's
local out, firstOf, new, stale = {}, {}, {}, {}
for i = 1, n do
  local key = KEYS[NB + 1 + i]
  local fp = ARGV[A + (i - 1) * S + ITEM_FP]
  local first = firstOf[key]
  if first then
    if out[first] == 'new' then
      if fp ~= ARGV[A + (first - 1) * S + ITEM_FP] then return { 'conflict', i, first } end
      out[i] = first
    else
      if fp ~= out[first][F.fp] then return { 'conflict', i, out[first] } end
      out[i] = out[first]
    end
  else
    firstOf[key] = i
    if redis.call('EXISTS', key) == 0 then
      out[i] = 'new'
      new[#new + 1] = i
    else
      local values, missing = readRecord(key, ARGV[1], ARGV[2])
      if not isRecord(values) then
        if not isReplaceable(values, missing) then return { 'unreadable', i, values } end
        out[i] = 'new'
        new[#new + 1] = i
        stale[i] = true
      else
        if values[F.fp] ~= fp then return { 'conflict', i, values } end
        if missing == 1 then return { 'job-missing' } end
        out[i] = values
      end
    end
  end
end
for _, i in ipairs(new) do
  local base = A + (i - 1) * S
  if stale[i] then redis.call('DEL', KEYS[NB + 1 + i]) end
  queueRecord(KEYS[NB + 1 + i], openKey, ARGV[3], ARGV, base + 1, ARGV[4])
  local add = NEW_RECORD_FIELD_COUNT
  bullmqAddStandardJob(bullKeys, { ARGV[base + add + 1], ARGV[base + add + 2], ARGV[base + add + 3] })
  redis.call('ZADD', KEYS[NB + 1 + n + i], ARGV[3], ARGV[base + ITEM_JOB_ID])
  redis.call('PEXPIRE', KEYS[NB + 1 + n + i], ARGV[5])
end
return { 'ok', out }
