#!lua
--[[
  pciWebhookFanOut: queues deliveries of a batch of events to their endpoints (redis/webhook-store.ts).

    KEYS[1]  the due set (a sorted set of `<endpointId>:<orderKey>` by when its head is due, ms)
    ARGV[1]  the webhooks' key base (keys.ts webhookKeyBase)   ARGV[2]  now, ms
    ARGV[3]  forget fanned-out event ids older than this, ms   ARGV[4]  '1' to queue again what was queued (a replay)
    ARGV[5..] per delivery: endpointId, orderKey, eventId, the delivery item JSON
    returns  how many deliveries were queued

  Guarantees: one delivery per (endpoint, event id) however often a batch is fanned out (the
  endpoint's `seen` set), unless ARGV[4]; appended to its (endpoint, invitation) queue, whose head
  alone is ever due, so an invitation's deliveries to an endpoint go out in the order fanned out.
  Every key is under ARGV[1], which carries the queue prefix's hash tag: one slot on a Cluster.
]]
local due, base, now, horizon, force = KEYS[1], ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4] == '1'
local queued, trimmed = 0, {}
for i = 5, #ARGV, 4 do
  local id, orderKey, eventId, item = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  local seen = base .. ':seen:' .. id
  if not trimmed[id] then
    redis.call('ZREMRANGEBYSCORE', seen, '-inf', '(' .. horizon)
    trimmed[id] = true
  end
  local fresh = redis.call('ZADD', seen, 'NX', now, eventId) == 1
  if fresh or force then
    local q = base .. ':q:' .. id .. ':' .. orderKey
    redis.call('RPUSH', q, item)
    redis.call('SADD', base .. ':lists:' .. id, orderKey)
    if redis.call('LLEN', q) == 1 then redis.call('ZADD', due, 'NX', now, id .. ':' .. orderKey) end
    queued = queued + 1
  end
end
return queued
