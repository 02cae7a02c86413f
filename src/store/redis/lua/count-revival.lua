--[[
  pciCountRevival: one more revival of a request's job by the sweeper.

    KEYS[1]  the request's record key
    returns  how many revivals the request has had, this one included (the record's `revivals`)

  A record gone meanwhile (completed and expired, deleted) is not re-created as a hash holding
  `revivals` alone (HINCRBY on a missing key would create one, without a TTL): 1 is returned and
  nothing written.
]]
if redis.call('EXISTS', KEYS[1]) == 0 then return 1 end
return redis.call('HINCRBY', KEYS[1], 'revivals', 1)
