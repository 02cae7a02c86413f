--[[
  Set a limit's configuration; takes effect at once for every worker (they read the hash on each
  call). A new ceiling also becomes the current rate, and the adaptation starts afresh from it.

  KEYS[1]  the limit's hash
  ARGV[1..5]  defaults, as for acquire (used only if the hash does not exist yet)
  ARGV[6]  ceiling ('' = keep)    ARGV[7] burst ('' = keep)    ARGV[8] min rate ('' = keep)
  ARGV[9]  retry ratio ('' = keep)    ARGV[10] retries per minute always allowed ('' = keep)

  Returns the values of STATE_FIELDS, as get-state.lua.
  Guarantees: the current rate stays within [min(minRate, ceiling), ceiling].
]]
--- @include "prelude"
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
--- @include "read-state"
