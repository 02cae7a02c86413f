#!lua
--[[
  pciWebhookSettle: ends a delivery attempt (redis/webhook-store.ts settle).

    KEYS[1]  the due set   ARGV[1]  the webhooks' key base   ARGV[2]  endpointId   ARGV[3]  orderKey
    ARGV[4]  the delivery's eventId   ARGV[5]  result: delivered | retry | failed | gone
    ARGV[6]  now, ms   ARGV[7]  next attempt, ms (retry)   ARGV[8]  the head item rewritten (retry)
    ARGV[9]  disable after failing this long, ms   ARGV[10]  now (ISO-8601)   ARGV[11]  log length
    ARGV[12..16]  the attempt: number, status ('' none), latency ms, error, first failure (ISO or '')
    returns  1 when applied, 0 when the delivery was no longer its queue's head (nothing changed)

  Guarantees: only the head's own settle applies (a late one, after the lease passed and another
  claimant settled it, changes nothing); delivered and failed move the queue on, retry keeps the
  head and makes it due at ARGV[7], gone (410) keeps the head and disables the endpoint; an endpoint
  with no success for ARGV[9] ms is disabled with the reason; every applied attempt is logged
  (a stream per endpoint, MAXLEN ~ ARGV[11]).
]]
local due, base, id, orderKey, eventId, result = KEYS[1], ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local now, nextAt, newHead, disableAfter = tonumber(ARGV[6]), ARGV[7], ARGV[8], tonumber(ARGV[9])
local nowIso = ARGV[10]
local member = id .. ':' .. orderKey
local q = base .. ':q:' .. id .. ':' .. orderKey
local ep = base .. ':ep:' .. id
local head = redis.call('LINDEX', q, 0)
if not head or cjson.decode(head).eventId ~= eventId then return 0 end

local function disable(reason)
  redis.call('HSET', ep, 'enabled', '0', 'disabledReason', reason, 'disabledAt', nowIso)
  redis.call('ZREM', due, member)
end

if result == 'retry' or result == 'gone' then
  redis.call('LSET', q, 0, newHead)
  redis.call('ZADD', due, result == 'retry' and nextAt or now, member)
else
  redis.call('LPOP', q)
  if redis.call('LLEN', q) > 0 then
    redis.call('ZADD', due, now, member)
  else
    redis.call('ZREM', due, member)
    redis.call('SREM', base .. ':lists:' .. id, orderKey)
  end
end

if redis.call('EXISTS', ep) == 1 then
  if result == 'delivered' then
    redis.call('HDEL', ep, 'failingSince', 'failingSinceMs')
    redis.call('HSET', ep, 'lastSuccessAt', nowIso)
  else
    redis.call('HSETNX', ep, 'failingSince', nowIso)
    redis.call('HSETNX', ep, 'failingSinceMs', tostring(now))
    local since = tonumber(redis.call('HGET', ep, 'failingSinceMs')) or now
    if result == 'gone' then
      disable('the endpoint answered 410 Gone')
    elseif now - since >= disableAfter then
      disable('failing since ' .. redis.call('HGET', ep, 'failingSince') .. ' (no success for ' ..
        math.floor(disableAfter / 1000) .. ' s)')
    end
  end
end

redis.call('XADD', base .. ':log:' .. id, 'MAXLEN', '~', ARGV[11], '*',
  'eventId', eventId, 'attempt', ARGV[12], 'status', ARGV[13], 'latencyMs', ARGV[14], 'error', ARGV[15],
  'result', result, 'at', nowIso)
return 1
