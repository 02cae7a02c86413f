#!lua
--[[
  pciPublishOutcome: a worker's (or the sweeper's) publication of a request's outcome, one script:
  the guard below, then BullMQ's own add of the outcome job.

    KEYS[1..NB]  BullMQ's addStandardJob keys for the outcomes queue
    ARGV[1..3]   BullMQ's add arguments for the outcome job (job id = request id)
    PKEYS[1]     the outcome job's key
    PKEYS[2]     the request job's lock key (BullMQ's: keys.ts jobLockKey), or PKEYS[1] when unfenced
    PKEYS[3]     the request's record key, or PKEYS[1] when there is none
    PKEYS[4]     the open-records index, or PKEYS[1] when there is no record
    PKEYS[5]     the outcome log (keys.ts outcomeLogKey: a stream)
    PARGV[1]     the run's lock token, '' for an unfenced publication (a lost job's, the sweeper's)
    PARGV[2]     the request's job id
    PARGV[3]     '1' when there is a record to complete
    PARGV[4]     outcome event JSON for the record, or '' to keep no copy (complete-record.lua)
    PARGV[5]     completedAt (ISO-8601)   PARGV[6]  retention of the completed record, s
    PARGV[7]     the log's trim point (MINID, ms)   PARGV[8..12]  type, eventId, requestId, catalog,
                 identifier of the event   PARGV[13]  the outcome event JSON for the log
    (PKEYS are KEYS after BullMQ's; PARGV are ARGV after BullMQ's three)
    returns      'pci:fenced' (the lock is not the run's token: nothing written),
                 'pci:already-published' (the outcome exists: nothing written), or the outcome
                 job's id (published, and the record completed)

  Guarantees: at most one outcome per request, never overwritten; a run that lost its job's lock
  publishes nothing; the record says `completed` exactly when the outcome exists; the outcome log
  holds the event exactly when it was published here (includes/append-log.lua); a full Redis
  refuses the whole script before it runs (the shebang), so nothing is half written.

  A record that is this job's answers "is the outcome there" itself (completed <=> published), so
  the outcome key is only looked up when there is no such record.
]]
--- @include "bullmq:addStandardJob"
--- @include "complete-record"
--- @include "append-log"

local NB = 9 -- BullMQ's addStandardJob key count (test/unit/lua-scripts.test.ts)
local PKEYS = { unpack(KEYS, NB + 1) }
local PARGV = { unpack(ARGV, 4) }

if PARGV[1] ~= '' and redis.call('GET', PKEYS[2]) ~= PARGV[1] then return 'pci:fenced' end
local recordIsMine = false
if PARGV[3] == '1' then
  local r = redis.call('HMGET', PKEYS[3], 'jobId', 'state')
  if r[1] == PARGV[2] then
    if r[2] == 'completed' then return 'pci:already-published' end
    recordIsMine = true
  end
end
if not recordIsMine and redis.call('EXISTS', PKEYS[1]) == 1 then return 'pci:already-published' end
if recordIsMine then completeRecord(PKEYS[3], PKEYS[4], PARGV[4], PARGV[5], PARGV[6]) end
local added = bullmqAddStandardJob({ unpack(KEYS, 1, NB) }, { ARGV[1], ARGV[2], ARGV[3] })
if added == PARGV[10] then
  appendLog(PKEYS[5], PARGV[7], 'outcome', PARGV[8], PARGV[9], PARGV[10], PARGV[11], PARGV[12], PARGV[13])
end
return added
