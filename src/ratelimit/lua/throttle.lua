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
--- @include "probe"

local h = loadEnsured('rate', 'ceiling', 'minRate', 'burst', 'tat', 'blockedUntil', 'decreasedAt', 'streak', 'bg',
  'pFrac', 'preRate')
local retryAfterMs = tonumber(ARGV[6]) or 0
local factor = tonumber(ARGV[7])
local cooldown = tonumber(ARGV[8]) * 1000
local W = PROBE_WINDOW
local rate = h.rate
local decreased = 0
redis.call('HINCRBY', key, 'throttles', 1)
redis.call('HINCRBY', key, 't:' .. nowSec, 1)

local calls, thr = counts(nowSec - W, nowSec)
local share = thr / math.max(calls, 1)

local verdict = judgeProbe(h)
rate = h.rate
if verdict == nil or verdict == 'ours' then verdict = 'decrease' end
-- Within the background, allowing for chance: a share measured on few calls is noisy, so the
-- bound is 1.5 × the expected throttles plus two standard deviations (Poisson) plus one.
if verdict == 'decrease' and h.bg ~= nil and calls >= 20 then
  local expected = h.bg * calls
  if thr <= 1.5 * expected + 2 * math.sqrt(expected) + 1 then verdict = 'background' end
end

if verdict ~= 'decrease' then
  -- Background throttles, and those answering calls made while a probe measures, neither lower
  -- the rate nor hold back its rises (a probe holds them back itself: success.lua).
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
    if share < 0.3 and thr >= 3 then redis.call('HSET', key, 'pFrac', fmt(share), 'preRate', fmt(h.rate)) end
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
