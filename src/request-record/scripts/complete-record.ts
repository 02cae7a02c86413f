/**
 * pciCompleteRecord: queued | in_progress → completed, with the outcome.
 *
 *   KEYS[1]  record key               KEYS[2]  the open-records index
 *   ARGV[1]  the request's job id      ARGV[2]  outcome event JSON, or '' to keep no copy (the
 *            outcome job, which outlives the record, answers re-submissions: read-records.ts)
 *   ARGV[3]  completedAt (ISO-8601)    ARGV[4]  retention of the completed record, s
 *   returns  1 when completed, 0 when there is no record for this job (none, or one re-created
 *            for a newer request after this one's expired)
 *
 * Guarantee: run inside the MULTI that adds the outcome event, so the record is `completed`
 * exactly when the outcome exists. Checking the job id here (not by a read before the MULTI)
 * means the record key needs no WATCH: its job id never changes while it lives.
 */
export const COMPLETE_RECORD_LUA = `
if redis.call('HGET', KEYS[1], 'jobId') ~= ARGV[1] then return 0 end
if ARGV[2] == '' then
  redis.call('HSET', KEYS[1], 'state', 'completed', 'completedAt', ARGV[3])
else
  redis.call('HSET', KEYS[1], 'state', 'completed', 'outcome', ARGV[2], 'completedAt', ARGV[3])
end
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[4]))
redis.call('ZREM', KEYS[2], KEYS[1])
return 1`;
