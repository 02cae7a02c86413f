#!lua
--[[
  pciCloseHeld: an open held invitation leaves `held` (store/redis/held.ts closeHeld): decided here,
  accepted or rejected elsewhere, canceled, expired.

    KEYS[1]  the record (hash)          KEYS[2]  the open held index
    KEYS[3]  its catalog's open index   KEYS[4]  its catalog's last-seen index
    KEYS[5]  the due-for-expiring-notice index
    ARGV[1]  the new state   ARGV[2]  closedAt (ISO-8601)   ARGV[3]  the decision (JSON) or ''
    ARGV[4]  how long the closed record is kept, s   ARGV[5]  the identifier
    returns  { 'pci:closed' | 'pci:closed-already' | 'pci:none', the record's fields and values
             after the call (HGETALL) }

  Guarantees: a record leaves `held` once (the first close wins; a later one changes nothing and
  sees how it was closed); a closed record is in no index, and expires ARGV[4] seconds later.
]]
local r = redis.call('HMGET', KEYS[1], 'state', 'position')
if not r[1] then return { 'pci:none', {} } end
if r[1] ~= 'held' then return { 'pci:closed-already', redis.call('HGETALL', KEYS[1]) } end
redis.call('HSET', KEYS[1], 'state', ARGV[1], 'closedAt', ARGV[2], 'decision', ARGV[3])
if r[2] then
  redis.call('ZREM', KEYS[2], r[2])
  redis.call('ZREM', KEYS[3], r[2])
  redis.call('ZREM', KEYS[5], r[2])
end
redis.call('ZREM', KEYS[4], ARGV[5])
redis.call('EXPIRE', KEYS[1], ARGV[4])
return { 'pci:closed', redis.call('HGETALL', KEYS[1]) }
