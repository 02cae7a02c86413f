--[[
  Report a throttle from the API: multiplicative decrease, at most once per cooldown, and an
  optional Retry-After that blocks every admission until it has passed. Decreases compound while
  no rise comes in between (×f, then ×f², ×f³…): a rate far above what the API takes comes down
  in a few cooldowns, while a single throttle at the top of a probe costs only ×f.

  Not every throttle follows our rate: other traffic on the same account gets throttled calls of
  ours too, at the same share whatever our rate, and slowing down for those only loses work. So a
  decrease made while throttles are a small share of the calls (< 30%, at least 5 in the last
  seconds) is a probe: a window (2 s) later, if the throttled share did not fall with the rate
  (still ≥ 60% of what it was), the throttles are someone else's: the rate goes back to where it
  was and that share is remembered as the background (`bg`); throttles within 1.5 × it (+0.5 pt)
  then neither lower the rate nor hold back its rises. A share that falls with the rate is ours:
  the decrease stands, as plain AIMD.

  KEYS[1]  the limit's hash
  ARGV[1..5] defaults, as for acquire
  ARGV[6]  Retry-After in ms ('' or '0' = none)
  ARGV[7]  decrease factor (0 < f < 1)
  ARGV[8]  cooldown in ms: throttles within it of the last decrease only count (they answer
           calls admitted at the old rate)

  Returns {rate, decreased (1|0), blockedForUs, verdict} where verdict is 'decrease' (it counted
  against our rate), 'background' (someone else's share) or 'probing' (a probe is measuring).
  Guarantees: rate never goes below min(minRate, ceiling) nor above the ceiling; the burst credit
  is dropped on a throttle that counts against our rate (the next calls are spaced at the new
  rate); a Retry-After never shortens an existing block.
]]
--- @include "prelude"

local h = loadEnsured('rate', 'ceiling', 'minRate', 'burst', 'tat', 'blockedUntil', 'decreasedAt', 'streak', 'bg',
  'pFrac', 'preRate')
local retryAfterMs = tonumber(ARGV[6]) or 0
local factor = tonumber(ARGV[7])
local cooldown = tonumber(ARGV[8]) * 1000
local W = 2
local rate = h.rate
local decreased = 0
redis.call('HINCRBY', key, 'throttles', 1)
redis.call('HINCRBY', key, 't:' .. nowSec, 1)

-- Admitted calls and throttles of the seconds fromSec..toSec.
local function counts(fromSec, toSec)
  local fields = {}
  for s = fromSec, toSec do
    fields[#fields + 1] = 'c:' .. s
    fields[#fields + 1] = 't:' .. s
  end
  local v = redis.call('HMGET', key, unpack(fields))
  local c, th = 0, 0
  for i = 1, #v, 2 do
    c = c + (tonumber(v[i]) or 0)
    th = th + (tonumber(v[i + 1]) or 0)
  end
  return c, th
end
local calls, thr = counts(nowSec - W, nowSec)
local share = thr / math.max(calls, 1)

local verdict = 'decrease'
if h.pFrac ~= nil and h.decreasedAt ~= nil then
  local since = now - h.decreasedAt
  if since < W * 1000000 then
    verdict = 'probing'
  else
    redis.call('HDEL', key, 'pFrac', 'preRate')
    if since <= (W + 5) * 1000000 then
      local ca, ta = counts(math.floor(h.decreasedAt / 1000000) + 1, nowSec)
      local after = ta / math.max(ca, 1)
      if ca >= 20 and after >= 0.6 * h.pFrac then
        local bg = after
        if h.bg ~= nil then bg = (h.bg + after) / 2 end
        rate = math.min(h.ceiling, h.preRate or rate)
        redis.call('HSET', key, 'bg', fmt(bg), 'rate', fmt(rate), 'changedAt', fmt(now), 'streak', 0, 'wmax', fmt(rate))
        h.bg = bg
        verdict = 'background'
      end
    end
  end
end
if verdict == 'decrease' and h.bg ~= nil and calls >= 20 and share <= h.bg * 1.5 + 0.005 then verdict = 'background' end

if verdict == 'background' then
  redis.call('HSET', key, 'bgThrottledAt', fmt(now))
else
  redis.call('HSET', key, 'throttledAt', fmt(now))
  if verdict == 'decrease' and (h.decreasedAt == nil or now - h.decreasedAt >= cooldown) then
    local streak = (h.streak or 0) + 1
    local floor = math.min(h.minRate, h.ceiling)
    rate = math.max(floor, rate * factor ^ streak)
    redis.call('HSET', key, 'wmax', fmt(math.min(h.rate, rate / factor)), 'rate', fmt(rate), 'decreasedAt', fmt(now),
      'changedAt', fmt(now),
      'probe', 0, 'streak', streak)
    if share < 0.3 and thr >= 5 then redis.call('HSET', key, 'pFrac', fmt(share), 'preRate', fmt(h.rate)) end
    decreased = 1
  end
end
local T, tau = schedule(rate, h.burst)
local tat = h.tat or now
if verdict ~= 'background' then tat = math.max(tat, now + tau) end
local blockedUntil = h.blockedUntil or 0
if retryAfterMs > 0 then
  blockedUntil = math.max(blockedUntil, now + math.floor(retryAfterMs * 1000))
  tat = math.max(tat, blockedUntil + tau)
  redis.call('HSET', key, 'blockedUntil', fmt(blockedUntil))
end
redis.call('HSET', key, 'tat', fmt(tat))
return {fmt(rate), decreased, math.max(blockedUntil - now, 0), verdict}
