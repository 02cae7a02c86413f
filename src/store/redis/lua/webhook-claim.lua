#!lua
--[[
  pciWebhookClaim: hands out due deliveries, each the head of its (endpoint, invitation) queue.

    KEYS[1]  the due set   ARGV[1]  the webhooks' key base   ARGV[2]  now, ms   ARGV[3]  lease, ms
    ARGV[4]  how many at most
    returns  a flat list: member, head item JSON, member, head item JSON, …

  Guarantees: a queue's head goes to one claimant at a time: claiming moves it `lease` ms ahead in
  the due set, so a claimant that dies hands it to the next claim after that (at least once);
  a disabled or removed endpoint's queues leave the due set (an enable puts them back); an endpoint's
  deliveries are spaced by its rate limit (`rateLimit` per second, a GCRA whose state, `tat`, is
  shared by the fleet), a queue that would exceed it is moved to when it may go.
]]
local due, base, now, lease, want = KEYS[1], ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local out, got = {}, 0
local members = redis.call('ZRANGEBYSCORE', due, '-inf', now, 'LIMIT', 0, want * 2)
local tats = base .. ':tat'
for _, m in ipairs(members) do
  if got >= want then break end
  local sep = string.find(m, ':', 1, true)
  local id, orderKey = string.sub(m, 1, sep - 1), string.sub(m, sep + 1)
  local ep = base .. ':ep:' .. id
  local fields = redis.call('HMGET', ep, 'enabled', 'rateLimit')
  local q = base .. ':q:' .. id .. ':' .. orderKey
  local head = redis.call('LINDEX', q, 0)
  if fields[1] ~= '1' or not head then
    redis.call('ZREM', due, m)
    if not head then redis.call('SREM', base .. ':lists:' .. id, orderKey) end
  else
    local rate = tonumber(fields[2]) or 0
    local go = true
    if rate > 0 then
      local interval = 1000 / rate
      local tolerance = interval * (math.max(1, rate) - 1)
      local tat = math.max(tonumber(redis.call('HGET', tats, id)) or 0, now)
      if tat - now > tolerance then
        go = false
        redis.call('ZADD', due, math.ceil(tat - tolerance), m)
      else
        redis.call('HSET', tats, id, tostring(tat + interval))
      end
    end
    if go then
      redis.call('ZADD', due, now + lease, m)
      out[#out + 1] = m
      out[#out + 1] = head
      got = got + 1
    end
  end
end
return out
