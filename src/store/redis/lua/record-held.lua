#!lua
--[[
  pciRecordHeld: records what a discovery (or an event) saw of invitations its policy held, a batch
  at once (store/redis/held.ts recordHeld).

    KEYS[1]      the open held index (sorted set, every score 0, members `<position>`: held-store.ts
                 heldPosition, so ZRANGEBYLEX walks them by expiry)
    KEYS[2]      the due-for-expiring-notice index (same members, until the notice went out)
    KEYS[2+3i-2] item i's record (hash)   KEYS[2+3i-1] its catalog's open index (as KEYS[1])
    KEYS[2+3i]   its catalog's last-seen index (sorted set: identifier by last seen, ms)
    ARGV[1]      fields per item (F = 11); then per item i, ARGV[1+F(i-1)+1 ..]:
                 catalog, identifier, otherParticipantIdentifier, connectionType, inviterEmail,
                 expiresAt, rule, policyHash ('' for null), seenAt (ISO-8601), seenMs, position
    returns      per item: 'new' (a record made, held), 'seen' (an open record: last seen and
                 details updated), 'closed' (a closed record: nothing written)

  Guarantees: a closed record is never reopened; a record's first sighting stays its firstSeenAt;
  an open record is in the open indexes exactly at its position (moved when its expiry changes),
  and in the due index until its expiring notice went out (pciCloseHeld takes it out of all).
]]
local F = tonumber(ARGV[1])
local out = {}
for i = 1, (#KEYS - 2) / 3 do
  local record, openCatalog, seen = KEYS[2 + 3 * i - 2], KEYS[2 + 3 * i - 1], KEYS[2 + 3 * i]
  local a = 1 + F * (i - 1)
  local identifier, seenAt, seenMs, position = ARGV[a + 2], ARGV[a + 9], ARGV[a + 10], ARGV[a + 11]
  local prior = redis.call('HMGET', record, 'state', 'position')
  if prior[1] and prior[1] ~= 'held' then
    out[i] = 'closed'
  else
    if prior[2] and prior[2] ~= position then
      redis.call('ZREM', KEYS[1], prior[2])
      redis.call('ZREM', openCatalog, prior[2])
      if redis.call('ZREM', KEYS[2], prior[2]) == 1 then redis.call('ZADD', KEYS[2], 0, position) end
    end
    redis.call('HSET', record,
      'catalog', ARGV[a + 1], 'identifier', identifier, 'otherParticipantIdentifier', ARGV[a + 3],
      'connectionType', ARGV[a + 4], 'inviterEmail', ARGV[a + 5], 'expiresAt', ARGV[a + 6],
      'rule', ARGV[a + 7], 'policyHash', ARGV[a + 8], 'state', 'held', 'lastSeenAt', seenAt,
      'position', position)
    if not prior[1] then
      redis.call('HSET', record, 'firstSeenAt', seenAt)
      redis.call('ZADD', KEYS[2], 0, position)
      out[i] = 'new'
    else
      out[i] = 'seen'
    end
    redis.call('ZADD', KEYS[1], 0, position)
    redis.call('ZADD', openCatalog, 0, position)
    redis.call('ZADD', seen, seenMs, identifier)
  end
end
return out
