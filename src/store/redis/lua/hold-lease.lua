--[[
  pciHoldLease: takes or renews a lease (an event sink's, keys.ts sinkLeaseKey).

    KEYS[1]  the lease key
    ARGV[1]  the holder (a unique id per process start)   ARGV[2]  how long, ms
    returns  1 when the holder has the lease for ARGV[2] ms from now, 0 when another holder has it

  Guarantee: one holder at a time; a holder that stops renewing loses the lease when it expires.
  The read and the write are one script, so two takers cannot both get it.
]]
local current = redis.call('GET', KEYS[1])
if current == false or current == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', tonumber(ARGV[2]))
  return 1
end
return 0
