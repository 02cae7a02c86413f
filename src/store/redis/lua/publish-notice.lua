#!lua
--[[
  pciPublishNotice: a notice about a held invitation (contracts/notice.ts) onto the outcomes queue,
  once: the claim of its eventId, then BullMQ's own add of its job (job id = eventId).

    KEYS[1..NB]  BullMQ's addStandardJob keys for the outcomes queue
    ARGV[1..3]   BullMQ's add arguments for the notice's job
    PKEYS[1]     the notice's claim (a string key per eventId)
    PARGV[1]     how long the claim is kept, s   PARGV[2]  when it was claimed (ISO-8601)
    (PKEYS are KEYS after BullMQ's; PARGV are ARGV after BullMQ's three)
    returns      'pci:already-sent' (claimed before: nothing written), or the job's id (published)

  Guarantees: at most one publication per eventId while its claim lasts, whichever process and
  however many at once; the claim and the job are written by one script, so a notice is never
  claimed without being published (a full Redis refuses the whole script before it runs).
]]
--- @include "bullmq:addStandardJob"

local NB = 9 -- BullMQ's addStandardJob key count (test/unit/lua-scripts.test.ts)
local PKEYS = { unpack(KEYS, NB + 1) }
local PARGV = { unpack(ARGV, 4) }

if not redis.call('SET', PKEYS[1], PARGV[2], 'NX', 'EX', PARGV[1]) then return 'pci:already-sent' end
return bullmqAddStandardJob({ unpack(KEYS, 1, NB) }, { ARGV[1], ARGV[2], ARGV[3] })
