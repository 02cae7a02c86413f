--[[
  Admit up to n calls now (at least one), or say how long to wait.

  KEYS[1]  the limit's hash
  ARGV[1]  default ceiling (calls/s)   ARGV[2] default burst   ARGV[3] default min rate
  ARGV[4]  default retry ratio         ARGV[5] default retries per minute that are always allowed
  ARGV[6]  '1' when the call is a retry, '0' for a first attempt
  ARGV[7]  n, the calls wanted now (absent = 1; a retry is always asked for alone)

  Returns {1, nowUs, atCeiling, k} when k calls (1 ≤ k ≤ n) are admitted: as many as conform to
  the schedule now, back to back within the burst, each counted as a call; atCeiling is 1 when the
  rate is at its ceiling, so a success report would change nothing. Else {0, waitUs, reason} with reason
    'retry-after'   a Retry-After from the API blocks every admission until then;
    'retry-budget'  a retry, and admitting it would make retries more than retryRatio of the calls
                    of the last 60 s (and more than retryMin); waitUs: until the oldest counted
                    retry leaves the window (a hint: re-check then);
    'rate'          GCRA: waitUs is exactly when the next call conforms.
  Guarantees: the admitted calls of any window of length L number at most L·rate + burst (for
  the highest rate in force during that window); refused calls are not counted; first attempts
  are never refused for the retry budget.
]]
--- @include "prelude"

local cNow, rNow = 'c:' .. nowSec, 'r:' .. nowSec
local h = loadEnsured('rate', 'ceiling', 'burst', 'tat', 'blockedUntil', 'retryRatio', 'retryMin', 'bStart', 'bCalls',
  'bRetries', cNow, rNow)
if h.blockedUntil ~= nil and now < h.blockedUntil then
  return {0, h.blockedUntil - now, 'retry-after'}
end

local isRetry = ARGV[6] == '1'
local wanted = 1
if not isRetry then wanted = math.max(math.floor(tonumber(ARGV[7]) or 1), 1) end
local bStart, calls, retries = rollBudget(h, true)
if isRetry and retries + 1 > math.max(h.retryMin or 0, (h.retryRatio or 0) * (calls + 1)) + 1e-9 then
  -- Wait until the oldest second that holds a counted retry leaves the window.
  local wait = 1000000
  for s = bStart, nowSec do
    if (tonumber(redis.call('HGET', key, 'r:' .. s)) or 0) > 0 then
      wait = (s + WINDOW) * 1000000 - now
      break
    end
  end
  redis.call('HSET', key, 'bStart', bStart, 'bCalls', calls, 'bRetries', retries)
  return {0, math.max(wait, 1000), 'retry-budget'}
end

local T, tau = schedule(h.rate, h.burst)
local tat = math.max(h.tat or now, now)
if tat - tau > now then
  redis.call('HSET', key, 'bStart', bStart, 'bCalls', calls, 'bRetries', retries)
  return {0, tat - tau - now, 'rate'}
end

-- The j-th of several calls admitted now (j = 0, 1, …) conforms while tat + j*T - tau <= now:
-- they use the burst credit exactly as the same calls asked for one by one would.
local k = math.min(wanted, math.floor((now + tau - tat) / T) + 1)

-- This second's buckets were read with the rest (one HMGET) and are written with the rest (one
-- HSET): the script is atomic, so no HINCRBY is needed to count the calls.
if isRetry then
  retries = retries + 1
  redis.call('HSET', key, 'tat', fmt(tat + T), 'bStart', bStart, 'bCalls', calls + 1, 'bRetries', retries,
    cNow, (h[cNow] or 0) + 1, rNow, (h[rNow] or 0) + 1)
else
  redis.call('HSET', key, 'tat', fmt(tat + k * T), 'bStart', bStart, 'bCalls', calls + k, 'bRetries', retries,
    cNow, (h[cNow] or 0) + k)
end
local atCeiling = 0
if h.ceiling ~= nil and h.rate >= h.ceiling then atCeiling = 1 end
return {1, now, atCeiling, k}
