/**
 * pciMarkInProgress: queued → in_progress, when a worker takes the request's job.
 *
 *   KEYS[1]  record key        ARGV[1]  the job id of the run
 *   returns  1 when the record moved, 0 when it was not queued or belongs to another job
 *
 * Guarantee: only the record's own job moves it (a record re-created for a new request after the
 * old one expired has another job id), and a completed record never goes back.
 */
export const MARK_IN_PROGRESS_LUA = `
if redis.call('HGET', KEYS[1], 'jobId') == ARGV[1] and redis.call('HGET', KEYS[1], 'state') == 'queued' then
  redis.call('HSET', KEYS[1], 'state', 'in_progress')
  return 1
end
return 0`;
