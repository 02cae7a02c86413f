--[[
  Report a successful call: after a quiet interval (no throttle and no rate change), raise the
  rate. Below the rate of the last decrease (wmax) it climbs halfway back each interval (at least
  `step`); at or above it, it probes by `step`, doubling on each consecutive increase.

  KEYS[1]  the limit's hash
  ARGV[1..5] defaults, as for acquire
  ARGV[6]  quiet interval in ms
  ARGV[7]  additive step, calls/s

  Returns {rate, increased (1|0)}.
  Guarantees: rate never exceeds the ceiling; at most one increase per interval across all
  workers, however many successes are reported.
]]
--- @include "prelude"
--- @include "probe"

local h = loadEnsured('rate', 'ceiling', 'changedAt', 'throttledAt', 'wmax', 'probe', 'pFrac', 'preRate', 'decreasedAt',
  'bg')
if judgeProbe(h) == 'probing' then return {fmt(h.rate), 0} end
local interval = tonumber(ARGV[6]) * 1000
local rate = h.rate
-- Scaled to the rate: +1/s is nothing at 200/s (a climb from 120 took 7 s), 5% is one step.
local step = math.max(tonumber(ARGV[7]), rate * 0.05)
local quietSince = math.max(h.changedAt or 0, h.throttledAt or 0)
if rate >= h.ceiling or now - quietSince < interval then
  return {fmt(rate), 0}
end
local probe = h.probe or 0
if h.wmax ~= nil and h.wmax > rate then
  step = math.max(step, (h.wmax - rate) / 2)
else
  probe = probe + 1
  step = step * 2 ^ math.min(probe - 1, 10)
end
rate = math.min(h.ceiling, rate + step)
redis.call('HSET', key, 'rate', fmt(rate), 'changedAt', fmt(now), 'probe', probe, 'streak', 0)
return {fmt(rate), 1}
