--[[
  appendLog(key, minId, kind, type, eventId, requestId, catalog, identifier, json): the event's
  entry in the outcome log (keys.ts outcomeLogKey), a Redis stream read without consuming
  (outcome-log.ts): `XADD key MINID ~ <minId> * kind … json …`. Entries older than minId (ms,
  now − IDEMPOTENCY_RETENTION_SECONDS) are trimmed approximately: Redis drops whole macro-nodes
  only, so a few older entries may stay a while, never fewer than asked. The caller appends in the
  same script (or MULTI) as the publication, so an event is in the log exactly when it was published.
  The field names are LOG_FIELDS of redis/outcome-log.ts (test/unit/lua-scripts.test.ts).
]]
local function appendLog(key, minId, kind, type, eventId, requestId, catalog, identifier, json)
  return redis.call('XADD', key, 'MINID', '~', minId, '*',
    'kind', kind, 'type', type, 'eventId', eventId, 'requestId', requestId,
    'catalog', catalog, 'identifier', identifier, 'json', json)
end
