#!lua
--[[
  pciPublishNotice: a notice about a held invitation (contracts/notice.ts) onto the outcomes queue,
  once: the claim of its eventId, then BullMQ's own add of its job (job id = eventId).

    KEYS[1..NB]  BullMQ's addStandardJob keys for the outcomes queue
    ARGV[1..3]   BullMQ's add arguments for the notice's job
    PKEYS[1]     the notice's claim (a string key per eventId)
    PKEYS[2]     the outcome log (keys.ts outcomeLogKey: a stream)
    PARGV[1]     how long the claim is kept, s   PARGV[2]  when it was claimed (ISO-8601)
    PARGV[3]     the log's trim point (MINID, ms)   PARGV[4..8]  type, eventId, requestId, catalog,
                 identifier of the notice   PARGV[9]  the notice JSON for the log
    (PKEYS are KEYS after BullMQ's; PARGV are ARGV after BullMQ's three)
    returns      'pci:already-sent' (claimed before: nothing written), or the job's id (published)

  Guarantees: at most one publication per eventId while its claim lasts, whichever process and
  however many at once; the claim and the job are written by one script, so a notice is never
  claimed without being published (a full Redis refuses the whole script before it runs); the
  outcome log holds the notice exactly when it was published here (includes/append-log.lua).
]]
--- @include "bullmq:addStandardJob"
--- @include "append-log"

local NB = 9 -- BullMQ's addStandardJob key count (test/unit/lua-scripts.test.ts)
local PKEYS = { unpack(KEYS, NB + 1) }
local PARGV = { unpack(ARGV, 4) }

if not redis.call('SET', PKEYS[1], PARGV[2], 'NX', 'EX', PARGV[1]) then return 'pci:already-sent' end
local added = bullmqAddStandardJob({ unpack(KEYS, 1, NB) }, { ARGV[1], ARGV[2], ARGV[3] })
if added == PARGV[5] then
  appendLog(PKEYS[2], PARGV[3], 'notice', PARGV[4], PARGV[5], PARGV[6], PARGV[7], PARGV[8], PARGV[9])
end
return added
