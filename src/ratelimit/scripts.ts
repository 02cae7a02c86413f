/**
 * The Lua scripts of the shared rate limiter. Each runs atomically on the Redis server that holds
 * the limit's hash, on Redis time (`TIME`), so workers on machines with skewed clocks still share
 * one exact schedule. Every script touches exactly one key, so they run unchanged on Redis Cluster.
 *
 * The limit's hash (`${prefix}:ratelimit:${limitKey}`), all times in µs of Redis time:
 *   ceiling         configured rate, calls/s (what `limits set --rate` writes)
 *   burst           calls that may go back to back after an idle spell (≥ 1)
 *   minRate         floor of the adaptive rate, calls/s
 *   retryRatio      retries may be at most this fraction of admitted calls over the last minute…
 *   retryMin        …or this many per minute, whichever is more
 *   rate            current adaptive rate, calls/s (≤ ceiling)
 *   tat             GCRA theoretical arrival time
 *   blockedUntil    no admission before this (a Retry-After)
 *   throttles       throttles reported since the hash was created
 *   throttledAt     last throttle reported
 *   decreasedAt     last multiplicative decrease
 *   changedAt       last change of `rate` (decrease, increase, set)
 *   wmax            one factor above the rate set by the last decrease: recovery climbs back to it
 *                   quickly, then probes (not the rate before a compounding descent: that overshoots)
 *   probe           consecutive increases at or above wmax (the probing step doubles each time)
 *   streak          consecutive decreases without a rise in between (the k-th multiplies by f^k)
 *   bg              throttled share of calls found not to follow our rate (someone else's traffic
 *                   on the account): throttles within it do not lower the rate
 *   bgThrottledAt   last throttle counted as background
 *   pFrac preRate   a probe in progress: the throttled share, and the rate, before a decrease made
 *                   while throttles were few; a window later, did the share fall with the rate?
 *   bStart          oldest second of the retry-budget window
 *   bCalls bRetries admitted calls / retries in the window
 *   c:<sec> r:<sec> admitted calls / retries in that second (at most 60 of each)
 *   t:<sec>         throttles reported in that second
 *
 * Numbers are written with %.17g so µs timestamps (~1.7e15) survive the round trip through a
 * string exactly (Lua's tostring keeps only 14 digits).
 */

/** Shared by every script: Redis time, number formatting, defaults, the retry-budget window. */
const PRELUDE = `
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
`;

/**
 * Admit up to n calls now (at least one), or say how long to wait.
 *
 * KEYS[1]  the limit's hash
 * ARGV[1]  default ceiling (calls/s)   ARGV[2] default burst   ARGV[3] default min rate
 * ARGV[4]  default retry ratio         ARGV[5] default retries per minute that are always allowed
 * ARGV[6]  '1' when the call is a retry, '0' for a first attempt
 * ARGV[7]  n, the calls wanted now (absent = 1; a retry is always asked for alone)
 *
 * Returns {1, nowUs, atCeiling, k} when k calls (1 ≤ k ≤ n) are admitted: as many as conform to
 * the schedule now, back to back within the burst, each counted as a call; atCeiling is 1 when the
 * rate is at its ceiling, so a success report would change nothing. Else {0, waitUs, reason} with reason
 *   'retry-after'   a Retry-After from the API blocks every admission until then;
 *   'retry-budget'  a retry, and admitting it would make retries more than retryRatio of the calls
 *                   of the last 60 s (and more than retryMin); waitUs: until the oldest counted
 *                   retry leaves the window (a hint: re-check then);
 *   'rate'          GCRA: waitUs is exactly when the next call conforms.
 * Guarantees: the admitted calls of any window of length L number at most L·rate + burst (for
 * the highest rate in force during that window); refused calls are not counted; first attempts
 * are never refused for the retry budget.
 */
export const ACQUIRE_LUA: string = `${PRELUDE}
local cNow, rNow = 'c:' .. nowSec, 'r:' .. nowSec
local h = loadEnsured('rate', 'ceiling', 'burst', 'tat', 'blockedUntil', 'retryRatio', 'retryMin', 'bStart', 'bCalls', 'bRetries', cNow, rNow)
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
  redis.call('HSET', key, 'tat', fmt(tat + k * T), 'bStart', bStart, 'bCalls', calls + k, 'bRetries', retries, cNow, (h[cNow] or 0) + k)
end
local atCeiling = 0
if h.ceiling ~= nil and h.rate >= h.ceiling then atCeiling = 1 end
return {1, now, atCeiling, k}
`;

/**
 * Report a throttle from the API: multiplicative decrease, at most once per cooldown, and an
 * optional Retry-After that blocks every admission until it has passed. Decreases compound while
 * no rise comes in between (×f, then ×f², ×f³…): a rate far above what the API takes comes down
 * in a few cooldowns, while a single throttle at the top of a probe costs only ×f.
 *
 * Not every throttle follows our rate: other traffic on the same account gets throttled calls of
 * ours too, at the same share whatever our rate, and slowing down for those only loses work. So a
 * decrease made while throttles are a small share of the calls (< 30%, at least 5 in the last
 * seconds) is a probe: a window (2 s) later, if the throttled share did not fall with the rate
 * (still ≥ 60% of what it was), the throttles are someone else's: the rate goes back to where it
 * was and that share is remembered as the background (`bg`); throttles within 1.5 × it (+0.5 pt)
 * then neither lower the rate nor hold back its rises. A share that falls with the rate is ours:
 * the decrease stands, as plain AIMD.
 *
 * KEYS[1]  the limit's hash
 * ARGV[1..5] defaults, as for acquire
 * ARGV[6]  Retry-After in ms ('' or '0' = none)
 * ARGV[7]  decrease factor (0 < f < 1)
 * ARGV[8]  cooldown in ms: throttles within it of the last decrease only count (they answer
 *          calls admitted at the old rate)
 *
 * Returns {rate, decreased (1|0), blockedForUs, verdict} where verdict is 'decrease' (it counted
 * against our rate), 'background' (someone else's share) or 'probing' (a probe is measuring).
 * Guarantees: rate never goes below min(minRate, ceiling) nor above the ceiling; the burst credit
 * is dropped on a throttle that counts against our rate (the next calls are spaced at the new
 * rate); a Retry-After never shortens an existing block.
 */
export const THROTTLE_LUA: string = `${PRELUDE}
local h = loadEnsured('rate', 'ceiling', 'minRate', 'burst', 'tat', 'blockedUntil', 'decreasedAt', 'streak', 'bg', 'pFrac', 'preRate')
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
    redis.call('HSET', key, 'wmax', fmt(math.min(h.rate, rate / factor)), 'rate', fmt(rate), 'decreasedAt', fmt(now), 'changedAt', fmt(now),
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
`;

/**
 * Report a successful call: after a quiet interval (no throttle and no rate change), raise the
 * rate. Below the rate of the last decrease (wmax) it climbs halfway back each interval (at least
 * `step`); at or above it, it probes by `step`, doubling on each consecutive increase.
 *
 * KEYS[1]  the limit's hash
 * ARGV[1..5] defaults, as for acquire
 * ARGV[6]  quiet interval in ms
 * ARGV[7]  additive step, calls/s
 *
 * Returns {rate, increased (1|0)}.
 * Guarantees: rate never exceeds the ceiling; at most one increase per interval across all
 * workers, however many successes are reported.
 */
export const SUCCESS_LUA: string = `${PRELUDE}
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
`;

/** Fields returned by STATE_LUA and SET_LUA, in this order. */
export const STATE_FIELDS = [
  "stored",
  "now",
  "ceiling",
  "burst",
  "minRate",
  "rate",
  "retryRatio",
  "retryMin",
  "throttles",
  "throttledAt",
  "decreasedAt",
  "blockedUntil",
  "tat",
  "calls",
  "retries",
  "bg",
] as const;

const STATE_BODY = `
local h = load('ceiling', 'burst', 'minRate', 'rate', 'retryRatio', 'retryMin', 'throttles', 'throttledAt',
  'decreasedAt', 'blockedUntil', 'tat', 'bStart', 'bCalls', 'bRetries', 'bg')
local stored = h.ceiling ~= nil
if not stored then
  h.ceiling, h.burst, h.minRate, h.rate = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[1])
  h.retryRatio, h.retryMin = tonumber(ARGV[4]), tonumber(ARGV[5])
end
local _, calls, retries = rollBudget(h, false)
local function s(x) if x == nil then return '' end return fmt(x) end
return {stored and '1' or '0', s(now), s(h.ceiling), s(h.burst), s(h.minRate), s(h.rate), s(h.retryRatio), s(h.retryMin),
  s(h.throttles or 0), s(h.throttledAt), s(h.decreasedAt), s(h.blockedUntil), s(h.tat), s(calls), s(retries), s(h.bg)}
`;

/**
 * Read a limit. Writes nothing: a limit that does not exist yet is shown with the caller's
 * defaults and stored = '0'.
 *
 * KEYS[1]  the limit's hash
 * ARGV[1..5] defaults, as for acquire
 *
 * Returns the values of STATE_FIELDS as strings ('' = never happened).
 */
export const STATE_LUA: string = `${PRELUDE}
${STATE_BODY}`;

/**
 * Set a limit's configuration; takes effect at once for every worker (they read the hash on each
 * call). A new ceiling also becomes the current rate, and the adaptation starts afresh from it.
 *
 * KEYS[1]  the limit's hash
 * ARGV[1..5]  defaults, as for acquire (used only if the hash does not exist yet)
 * ARGV[6]  ceiling ('' = keep)    ARGV[7] burst ('' = keep)    ARGV[8] min rate ('' = keep)
 * ARGV[9]  retry ratio ('' = keep)    ARGV[10] retries per minute always allowed ('' = keep)
 *
 * Returns the values of STATE_FIELDS, as STATE_LUA.
 * Guarantees: the current rate stays within [min(minRate, ceiling), ceiling].
 */
export const SET_LUA: string = `${PRELUDE}
ensure()
local names = {[6] = 'ceiling', [7] = 'burst', [8] = 'minRate', [9] = 'retryRatio', [10] = 'retryMin'}
for i = 6, 10 do
  if ARGV[i] ~= '' then redis.call('HSET', key, names[i], ARGV[i]) end
end
local c = load('ceiling', 'minRate', 'rate')
local rate = c.rate
if ARGV[6] ~= '' then
  rate = c.ceiling
  redis.call('HDEL', key, 'wmax', 'pFrac', 'preRate')
  redis.call('HSET', key, 'probe', 0, 'streak', 0, 'changedAt', fmt(now))
end
rate = math.max(math.min(c.minRate, c.ceiling), math.min(rate, c.ceiling))
redis.call('HSET', key, 'rate', fmt(rate))
${STATE_BODY}`;
