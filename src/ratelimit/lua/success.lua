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

local h = loadEnsured('rate', 'ceiling', 'changedAt', 'throttledAt', 'wmax', 'probe')
local interval = tonumber(ARGV[6]) * 1000
local step = tonumber(ARGV[7])
local rate = h.rate
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
