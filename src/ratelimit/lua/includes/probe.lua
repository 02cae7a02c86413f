--[[
  A probe: a decrease made while throttles were a small share of the calls (throttle.lua) asks
  whether that share follows our rate. PROBE_WINDOW seconds later, the share measured since the
  decrease answers it: fallen with the rate (below 60% of what it was, or under 1%), the
  throttles were ours and the decrease stands; not fallen, they are someone else's (other traffic
  on the account): the rate goes back to where it was, with no memory of a throttled rate, and
  the share is remembered as the background (`bg`). Judged by whichever report comes first once
  the window has passed, a throttle (throttle.lua) or a success (success.lua): a probe must not
  wait for a throttle to be judged, nor a success judge it before the window is over.

  Needs the prelude. Defines PROBE_WINDOW, counts, judgeProbe.
]]
local PROBE_WINDOW = 2

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

-- h holds pFrac, preRate, decreasedAt, bg, ceiling, rate. Returns nil (no probe), 'probing' (its
-- window is not over), 'ours' (the decrease stands) or 'background' (h.rate and h.bg updated,
-- written).
local function judgeProbe(h)
  if h.pFrac == nil or h.decreasedAt == nil then return nil end
  local since = now - h.decreasedAt
  if since < PROBE_WINDOW * 1000000 then return 'probing' end
  local pFrac = h.pFrac
  redis.call('HDEL', key, 'pFrac', 'preRate')
  h.pFrac = nil
  -- A probe judged long after its window (no report in between) has nothing left to say.
  if since > (PROBE_WINDOW + 5) * 1000000 then return 'ours' end
  local ca, ta = counts(math.floor(h.decreasedAt / 1000000) + 1, nowSec)
  local after = ta / math.max(ca, 1)
  if ca < 20 or after < 0.01 or after < 0.6 * pFrac then return 'ours' end
  local bg = after
  if h.bg ~= nil then bg = (h.bg + after) / 2 end
  h.bg = bg
  h.rate = math.min(h.ceiling, h.preRate or h.rate)
  redis.call('HSET', key, 'bg', fmt(bg), 'rate', fmt(h.rate), 'changedAt', fmt(now), 'streak', 0, 'probe', 0)
  redis.call('HDEL', key, 'wmax')
  return 'background'
end
