--[[
  pciCompleteRecord: queued | in_progress -> completed, with the outcome.

    KEYS[1]  record key               KEYS[2]  the open-records index
    ARGV[1]  the request's job id     ARGV[2]  outcome event JSON, or '' to keep no copy
    ARGV[3]  completedAt (ISO-8601)   ARGV[4]  retention of the completed record, s
    returns  1 when completed, 0 when there is no record for this job (none, or one re-created for
             a newer request after this one's expired)

  Guarantee: run inside the MULTI that adds the outcome event (a cancel's publication), so the
  record is `completed` exactly when the outcome exists. Checking the job id here (not by a read
  before the MULTI) means the record key needs no WATCH: its job id never changes while it lives.
]]
--- @include "complete-record"

if redis.call('HGET', KEYS[1], 'jobId') ~= ARGV[1] then return 0 end
completeRecord(KEYS[1], KEYS[2], ARGV[2], ARGV[3], ARGV[4])
return 1
