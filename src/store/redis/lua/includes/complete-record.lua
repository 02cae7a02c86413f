--[[
  completeRecord(key, openKey, outcome, completedAt, retentionSeconds): queued | in_progress ->
  completed, with the outcome event JSON (or '' to keep no copy: the outcome job, which then
  outlives the record, answers re-submissions, read-record.lua). The record expires
  `retentionSeconds` later and leaves the open-records index. The caller has checked that the
  record is this request's (its jobId).
]]
local function completeRecord(key, openKey, outcome, completedAt, retentionSeconds)
  if outcome == '' then
    redis.call('HSET', key, 'state', 'completed', 'completedAt', completedAt)
  else
    redis.call('HSET', key, 'state', 'completed', 'outcome', outcome, 'completedAt', completedAt)
  end
  redis.call('EXPIRE', key, tonumber(retentionSeconds))
  redis.call('ZREM', openKey, key)
end
