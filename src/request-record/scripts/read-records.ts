import { RECORD_FIELDS, RECORD_STATES, requestRecordSchema } from "../record.js";

const field = (name: (typeof RECORD_FIELDS)[number]) => RECORD_FIELDS.indexOf(name) + 1;

/** The fields every record has (the schema's non-optional ones), as Lua indices into readRecord's values. */
const REQUIRED_FIELDS = RECORD_FIELDS.filter((f) => !requestRecordSchema.shape[f].safeParse(undefined).success).map(
  field,
);

/**
 * `isRecord(values)`: readRecord's values are a record, by the rules of record.ts's schema (every
 * required field present, a known state), the rules `parseRecord` applies in Node.
 * `isReplaceable(values, missing)`: a hash that is not a record may be judged as none and replaced
 * whole (DEL, then the new record's fields) only when it names no job, or its job is gone while it
 * is not completed (record.ts isReplaceable, the same rule in Node); one naming a live job is
 * unreadable, and never written over.
 */
export const IS_RECORD_FN = `
local RECORD_STATES = { ${RECORD_STATES.map((s) => `['${s}'] = true`).join(", ")} }
local function isRecord(values)
  for _, i in ipairs({ ${REQUIRED_FIELDS.join(", ")} }) do
    if not values[i] then return false end
  end
  return RECORD_STATES[values[${field("state")}]] == true
end
local function isReplaceable(values, missing)
  return not values[${field("jobId")}] or missing == 1
end`;

/**
 * The read of one record as a Lua function, for scripts that judge a submission against its
 * record (pciReadRecords below; the producer's enqueue, producer/enqueue-script.ts):
 * `readRecord(key, jobKeyPrefix, outcomeKeyPrefix)` returns the fields in RECORD_FIELDS order
 * (false where absent) and, second, 1 when the record is not completed and its job hash is gone.
 * A queued record whose job a worker has taken (BullMQ set the job's processedOn) reads as
 * in_progress: no write per run says so (record.ts). A completed record that keeps no copy of its
 * outcome (the outcome is stored once, see complete-record.ts) gets its outcome event from the
 * outcome job's data (`outcomeKeyPrefix` '' = none).
 */
export const READ_RECORD_FN = `
local function readRecord(key, jobKeyPrefix, outcomeKeyPrefix)
  local values = redis.call('HMGET', key, ${RECORD_FIELDS.map((f) => `'${f}'`).join(", ")})
  local missing = 0
  local jobId, state = values[${field("jobId")}], values[${field("state")}]
  if jobId and state ~= 'completed' then
    if redis.call('EXISTS', jobKeyPrefix .. jobId) == 0 then
      missing = 1
    elseif state == 'queued' and redis.call('HEXISTS', jobKeyPrefix .. jobId, 'processedOn') == 1 then
      values[${field("state")}] = 'in_progress'
    end
  end
  if jobId and state == 'completed' and not values[${field("outcome")}] and outcomeKeyPrefix ~= '' then
    values[${field("outcome")}] = redis.call('HGET', outcomeKeyPrefix .. jobId, 'data')
  end
  return values, missing
end`;

/**
 * pciReadRecords: every record of a batch in one round trip.
 *
 *   KEYS[i]  record keys (all under the queue prefix's hash tag, so one Cluster slot)
 *   ARGV[1]  job key prefix, `<prefix>:<requests queue>:` (BullMQ's job hash is ARGV[1] .. jobId)
 *   ARGV[2]  outcome job key prefix, `<prefix>:<outcomes queue>:` ('' = none)
 *   returns  per key: readRecord's fields, then one more element: its job-missing flag.
 *   writes   nothing (read-only: may run on a replica, and under WATCH before a MULTI)
 *
 * The job check lets the producer give a record back its job (no record without a job).
 */
export const READ_RECORDS_LUA = `
${READ_RECORD_FN}
local out = {}
for i, key in ipairs(KEYS) do
  local values, missing = readRecord(key, ARGV[1], ARGV[2])
  values[#values + 1] = missing
  out[i] = values
end
return out`;
