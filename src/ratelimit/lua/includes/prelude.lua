--[[
  Shared by every script of the shared rate limiter (ratelimit/lua/*.lua). Each script runs
  atomically on the Redis server that holds the limit's hash, on Redis time (`TIME`), so workers
  on machines with skewed clocks still share one exact schedule. Every script touches exactly one
  key, so they run unchanged on Redis Cluster.

  The limit's hash (`<prefix>:ratelimit:<limitKey>`), all times in µs of Redis time:
    ceiling         configured rate, calls/s (what `limits set --rate` writes)
    burst           calls that may go back to back after an idle spell (≥ 1)
    minRate         floor of the adaptive rate, calls/s
    retryRatio      retries may be at most this fraction of admitted calls over the last minute…
    retryMin        …or this many per minute, whichever is more
    rate            current adaptive rate, calls/s (≤ ceiling)
    tat             GCRA theoretical arrival time
    blockedUntil    no admission before this (a Retry-After)
    throttles       throttles reported since the hash was created
    throttledAt     last throttle reported
    decreasedAt     last multiplicative decrease
    changedAt       last change of `rate` (decrease, increase, set)
    wmax            one factor above the rate set by the last decrease: recovery climbs back to it
                    quickly, then probes (not the rate before a compounding descent: that overshoots)
    probe           consecutive increases at or above wmax (the probing step doubles each time)
    streak          consecutive decreases without a rise in between (the k-th multiplies by f^k)
    bg              throttled share of calls found not to follow our rate (someone else's traffic
                    on the account): throttles within it do not lower the rate
    bgThrottledAt   last throttle counted as background
    pFrac preRate   a probe in progress: the throttled share, and the rate, before a decrease made
                    while throttles were few; a window later, did the share fall with the rate?
    bStart          oldest second of the retry-budget window
    bCalls bRetries admitted calls / retries in the window
    c:<sec> r:<sec> admitted calls / retries in that second (at most 60 of each)
    t:<sec>         throttles reported in that second

  Numbers are written with %.17g so µs timestamps (~1.7e15) survive the round trip through a
  string exactly (Lua's tostring keeps only 14 digits).

  Defines: key, nowSec, now (µs), WINDOW, fmt, ensure, load, loadEnsured, rollBudget, schedule.
]]
local key = KEYS[1]
local t = redis.call('TIME')
local nowSec = tonumber(t[1])
local now = nowSec * 1000000 + tonumber(t[2])
local WINDOW = 60

local function fmt(x) return string.format('%.17g', x) end

-- Writes the caller's defaults (ARGV[1..5]) when the limit does not exist yet; never overwrites.
local function ensure()
  if redis.call('EXISTS', key) == 0 then
    redis.call('HSET', key, 'ceiling', ARGV[1], 'burst', ARGV[2], 'minRate', ARGV[3], 'rate', ARGV[1],
      'retryRatio', ARGV[4], 'retryMin', ARGV[5], 'throttles', 0, 'createdAt', fmt(now))
  end
end

-- Hash fields as numbers; absent fields are nil.
local function load(...)
  local names = {...}
  local values = redis.call('HMGET', key, unpack(names))
  local h = {}
  for i, name in ipairs(names) do h[name] = tonumber(values[i]) end
  return h
end

-- load() of a limit that exists, with the caller's defaults written first when it does not (a
-- limit always has a ceiling): ensure() without its EXISTS on the hot path. Names must include 'ceiling'.
local function loadEnsured(...)
  local h = load(...)
  if h.ceiling == nil then
    ensure()
    h = load(...)
  end
  return h
end

-- Moves the retry-budget window to end at the current second: buckets older than 59 s are
-- subtracted from the running sums and, if write is true, deleted. At most 60 seconds are visited.
local function rollBudget(h, write)
  local oldest = nowSec - WINDOW + 1
  local calls, retries, bStart = h.bCalls or 0, h.bRetries or 0, h.bStart
  -- Buckets only exist with a count ≥ 1 (HINCRBY), so empty sums mean nothing to delete.
  if bStart == nil or calls + retries == 0 then return oldest, 0, 0 end
  if bStart < oldest then
    local fields = {}
    for s = bStart, math.min(oldest - 1, bStart + WINDOW - 1) do
      fields[#fields + 1] = 'c:' .. s
      fields[#fields + 1] = 'r:' .. s
      fields[#fields + 1] = 't:' .. s
    end
    local values = redis.call('HMGET', key, unpack(fields))
    for i = 1, #values, 3 do
      calls = calls - (tonumber(values[i]) or 0)
      retries = retries - (tonumber(values[i + 1]) or 0)
    end
    if write then redis.call('HDEL', key, unpack(fields)) end
    bStart = oldest
  end
  return bStart, math.max(calls, 0), math.max(retries, 0)
end

-- GCRA emission interval and tolerance at a rate, in whole µs. T is rounded up so the admitted
-- rate never exceeds the configured one; tau = (burst - 1) * T makes "burst" the number of calls
-- that may go back to back, and bounds any window of length L to L * rate + burst calls.
local function schedule(rate, burst)
  local T = math.ceil(1000000 / rate)
  return T, (math.max(burst, 1) - 1) * T
end
