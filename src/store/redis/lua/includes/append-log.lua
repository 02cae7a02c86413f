--[[
  appendLog(key, minId, kind, type, eventId, requestId, catalog, identifier, json): the event's
  entry in the outcome log (keys.ts outcomeLogKey), a Redis stream read without consuming
  (outcome-log.ts): `XADD key MINID ~ <minId> * kind … json …`. Only the kind and the JSON are
  stored (the readers parse the JSON; type, eventId, requestId, catalog and identifier are in it):
  each copy of them would cost ~150 B per event for as long as the log keeps it (issue 18, item 14).
  Entries older than minId (ms,
  now − IDEMPOTENCY_RETENTION_SECONDS) are trimmed approximately: Redis drops whole macro-nodes
  only, so a few older entries may stay a while, never fewer than asked. The caller appends in the
  same script (or MULTI) as the publication, so an event is in the log exactly when it was published.
  The field names are LOG_FIELDS of redis/outcome-log.ts (test/unit/lua-scripts.test.ts).
]]
local function appendLog(key, minId, kind, type, eventId, requestId, catalog, identifier, json)
  return redis.call('XADD', key, 'MINID', '~', minId, '*', 'kind', kind, 'json', json)
end
