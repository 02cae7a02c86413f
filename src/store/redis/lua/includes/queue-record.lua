--[[
  queueRecord(key, openKey, score, v, from, createdAt): (none, or a hash that is not a record and
  that no live request owns: the caller deletes it first) -> queued, for one record. Writes the six
  values v[from ..] in NEW_RECORD_FIELDS order (key, fp, payload, jobId, clientToken, correlationId:
  src/request-record/record.ts; test/unit/lua-scripts.test.ts fails if they differ), state `queued`
  and `createdAt`, and enters the record in the open-records index with `score` (its creation time,
  ms). No TTL: a queued record never expires, and stays in the index until it is completed, so the
  sweeper can find it if its job is lost.
]]
local NEW_RECORD_FIELD_COUNT = 6

local function queueRecord(key, openKey, score, v, from, createdAt)
  redis.call('HSET', key, 'key', v[from], 'fp', v[from + 1], 'payload', v[from + 2], 'jobId', v[from + 3],
    'clientToken', v[from + 4], 'correlationId', v[from + 5], 'state', 'queued', 'createdAt', createdAt)
  redis.call('ZADD', openKey, score, key)
end
