--[[
  pciReleaseLock: release of a short lock taken with `SET key token PX ms NX` (the discovery
  schedule's lock, app/discovery-schedule.ts).

    KEYS[1]  the lock key
    ARGV[1]  the token this holder set (a random UUID per acquisition)
    returns  1 when the lock was ours and is deleted, 0 when it was not (expired, or taken since by
             another holder with another token)

  Guarantee: a holder only ever deletes its own lock. The GET and the DEL run as one script, so a
  holder whose lock expired while it worked cannot delete the lock another process took after it.
]]
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
