--[[
  The request record (src/request-record/record.ts): one hash per idempotency key.

  RECORD_FIELDS: its fields, in the order every script reads them; F[name]: a field's position
  in that order. REQUIRED_RECORD_FIELDS: the fields every record has (the schema's non-optional
  ones). RECORD_STATES: its states. test/unit/lua-scripts.test.ts fails if any of these differs
  from record.ts.

  isRecord(values): readRecord's values are a record by the schema's rules (every required field
  present, a known state): the rules parseRecord applies in Node.
  isReplaceable(values, missing): a hash that is not a record may be judged as none and replaced
  whole (DEL, then the new record's fields) only when it names no job, or its job is gone while it
  is not completed (record.ts isReplaceable, the same rule in Node). One naming a live job is
  unreadable and never written over.
]]
local RECORD_FIELDS = { 'key', 'fp', 'payload', 'jobId', 'clientToken', 'correlationId', 'state', 'createdAt',
  'outcome', 'completedAt' }
local REQUIRED_RECORD_FIELDS = { 'key', 'fp', 'payload', 'jobId', 'clientToken', 'correlationId', 'state',
  'createdAt' }
local RECORD_STATES = { queued = true, in_progress = true, completed = true }
local F = {}
for i, name in ipairs(RECORD_FIELDS) do F[name] = i end

local function isRecord(values)
  for _, name in ipairs(REQUIRED_RECORD_FIELDS) do
    if not values[F[name]] then return false end
  end
  return RECORD_STATES[values[F.state]] == true
end

local function isReplaceable(values, missing)
  return not values[F.jobId] or missing == 1
end
