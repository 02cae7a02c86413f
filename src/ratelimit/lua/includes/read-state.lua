--[[
  The limit's state as getState and set return it: the values of STATE_FIELDS (ratelimit/scripts.ts;
  test/unit/lua-scripts.test.ts fails if the order differs), as strings ('' = never happened).
  A limit that does not exist yet is shown with the caller's defaults (ARGV[1..5]) and stored = '0'.
]]
local h = load('ceiling', 'burst', 'minRate', 'rate', 'retryRatio', 'retryMin', 'throttles', 'throttledAt',
  'decreasedAt', 'blockedUntil', 'tat', 'bStart', 'bCalls', 'bRetries', 'bg')
local stored = h.ceiling ~= nil
if not stored then
  h.ceiling, h.burst, h.minRate, h.rate = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[1])
  h.retryRatio, h.retryMin = tonumber(ARGV[4]), tonumber(ARGV[5])
end
local _, calls, retries = rollBudget(h, false)
local function s(x) if x == nil then return '' end return fmt(x) end
return {stored and '1' or '0', s(now), s(h.ceiling), s(h.burst), s(h.minRate), s(h.rate), s(h.retryRatio),
  s(h.retryMin),
  s(h.throttles or 0), s(h.throttledAt), s(h.decreasedAt), s(h.blockedUntil), s(h.tat), s(calls), s(retries), s(h.bg)}
