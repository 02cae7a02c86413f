--[[
  readRecord(key, jobKeyPrefix, outcomeKeyPrefix): one record's fields in RECORD_FIELDS order
  (false where absent) and, second, 1 when the record is not completed and its job hash is gone.

  A queued record whose job a worker has taken (BullMQ set the job's processedOn) reads as
  in_progress: no write per run says so (record.ts). A completed record that keeps no copy of its
  outcome (the outcome is stored once: complete-record.lua) gets its outcome event from the outcome
  job's data (`outcomeKeyPrefix` '' = none).
]]
--- @include "record"

local function readRecord(key, jobKeyPrefix, outcomeKeyPrefix)
  local values = redis.call('HMGET', key, unpack(RECORD_FIELDS))
  local missing = 0
  local jobId, state = values[F.jobId], values[F.state]
  if jobId and state ~= 'completed' then
    if redis.call('EXISTS', jobKeyPrefix .. jobId) == 0 then
      missing = 1
    elseif state == 'queued' and redis.call('HEXISTS', jobKeyPrefix .. jobId, 'processedOn') == 1 then
      values[F.state] = 'in_progress'
    end
  end
  if jobId and state == 'completed' and not values[F.outcome] and outcomeKeyPrefix ~= '' then
    values[F.outcome] = redis.call('HGET', outcomeKeyPrefix .. jobId, 'data')
  end
  return values, missing
end
