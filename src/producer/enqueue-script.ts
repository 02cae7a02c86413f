import type { JobsOptions, Queue } from "bullmq";
import { IdempotencyConflictError } from "../errors/index.js";
import type { RedisConnection } from "../queues/connection.js";
import { addJobArguments, BULLMQ_ADD_KEY_COUNT, BULLMQ_ADD_STANDARD_JOB_FN, runScript } from "../queues/guarded-add.js";
import { producerSpan } from "../queues/transaction.js";
import { differingFields } from "../request-record/fingerprint.js";
import { openRecordsKey } from "../request-record/identity.js";
import {
  judgeSubmission,
  parseRecord,
  RECORD_FIELDS,
  submissionResult,
  type RequestRecord,
  type SubmissionResult,
} from "../request-record/record.js";
import { NEW_RECORD_FIELDS, QUEUE_RECORD_FN } from "../request-record/scripts/queue-records.js";
import { openRecordScore, recordHashOf } from "../request-record/transitions.js";
import { IS_RECORD_FN, READ_RECORD_FN } from "../request-record/scripts/read-records.js";
import { newRecord, REQUEST_JOB_NAME, unreadableRecordError, type PreparedRequest } from "./reserve.js";

const NF = NEW_RECORD_FIELDS.length;
const at = (name: (typeof RECORD_FIELDS)[number]) => RECORD_FIELDS.indexOf(name) + 1;

/**
 * pciEnqueue: a batch of submissions judged against their records, and the new ones' records and
 * jobs written, in ONE script: no WATCH, no MULTI, one round trip, on the producer's own
 * (shared, pipelined) connection.
 *
 *   KEYS[1..NB]     BullMQ's addStandardJob keys for the requests queue (the same for every job)
 *   KEYS[NB+1]      the open-records index
 *   KEYS[NB+1+i]    item i's record key (a key may repeat within a batch)
 *   ARGV[1]         job key prefix (`<prefix>:<queue>:`)   ARGV[2]  outcome job key prefix ('' = none)
 *   ARGV[3]         the records' score in the open-records index (creation time, ms)
 *   ARGV[4]         the records' createdAt (ISO-8601; a batch's requests share it)
 *   ARGV[4 + (i-1)*S + 1 ..]  item i: its would-be record's fields (NEW_RECORD_FIELDS order),
 *                   then BullMQ's three add arguments for its job (S = those fields + 3)
 *   returns         { 'ok', per item: 'new' | the existing record's fields (a duplicate) | j (a
 *                   duplicate of item j, new in this batch) }
 *                   { 'conflict', i, the record's fields | j }: item i's payload differs from
 *                   its record's (or from item j's, earlier in the batch): nothing written
 *                   { 'job-missing' }: a duplicate's record is open and its job is gone: nothing
 *                   written (the caller gives the job back with a transaction, reserve.ts)
 *                   { 'unreadable', i, the hash's fields }: item i's key holds a hash that is not
 *                   a record and names a live job: nothing written
 *
 * A record key holding a hash that is not a record (IS_RECORD_FN: a field missing, an unknown
 * state, a stray field alone) is judged as no record, and replaced whole when the batch is
 * written, if no live request can own it (isReplaceable: it names no job, or its job is gone);
 * otherwise the reply is { 'unreadable', i, its fields }, nothing written (RecordUnreadableError).
 * `preview` and the transaction judge alike (record.ts). The check is the schema's, so every row
 * this script returns as a record parses as one in Node.
 *
 * BullMQ's add is not asked what it did: with a request job's options (no parent, no
 * deduplication, a job id made fresh for the request) it always adds the job. An option that lets
 * it refuse or deduplicate would need its own check before the writes (a Lua error does not undo
 * the writes made before it).
 *
 * Guarantees: judged first, written after, so a conflict anywhere refuses the whole batch; a
 * record and its job are written together (one script) or not at all: the shebang makes a full
 * Redis refuse the script before it runs. A concurrent producer's script runs before or after
 * this one, never between its read and its writes, so two submissions of one key make one job.
 */
const ENQUEUE_LUA = [
  "#!lua",
  BULLMQ_ADD_STANDARD_JOB_FN,
  READ_RECORD_FN,
  IS_RECORD_FN,
  QUEUE_RECORD_FN,
  `
local NB, NF, S = ${BULLMQ_ADD_KEY_COUNT}, ${NF}, ${NF + 3}
local FP, ITEM_FP = ${at("fp")}, ${NEW_RECORD_FIELDS.indexOf("fp") + 1}
local bullKeys = { unpack(KEYS, 1, NB) }
local openKey = KEYS[NB + 1]
local n = #KEYS - NB - 1
local out, firstOf, new, stale = {}, {}, {}, {}
for i = 1, n do
  local key = KEYS[NB + 1 + i]
  local fp = ARGV[4 + (i - 1) * S + ITEM_FP]
  local first = firstOf[key]
  if first then
    if out[first] == 'new' then
      if fp ~= ARGV[4 + (first - 1) * S + ITEM_FP] then return { 'conflict', i, first } end
      out[i] = first
    else
      if fp ~= out[first][FP] then return { 'conflict', i, out[first] } end
      out[i] = out[first]
    end
  else
    firstOf[key] = i
    if redis.call('EXISTS', key) == 0 then
      out[i] = 'new'
      new[#new + 1] = i
    else
      local values, missing = readRecord(key, ARGV[1], ARGV[2])
      if not isRecord(values) then
        if not isReplaceable(values, missing) then return { 'unreadable', i, values } end
        out[i] = 'new'
        new[#new + 1] = i
        stale[i] = true
      else
        if values[FP] ~= fp then return { 'conflict', i, values } end
        if missing == 1 then return { 'job-missing' } end
        out[i] = values
      end
    end
  end
end
for _, i in ipairs(new) do
  local base = 4 + (i - 1) * S
  if stale[i] then redis.call('DEL', KEYS[NB + 1 + i]) end
  queueRecord(KEYS[NB + 1 + i], openKey, ARGV[3], ARGV, base + 1, ARGV[4])
  bullmqAddStandardJob(bullKeys, { ARGV[base + NF + 1], ARGV[base + NF + 2], ARGV[base + NF + 3] })
end
return { 'ok', out }`,
].join("\n");

const COMMAND = "pciEnqueue";

type Row = Array<string | null>;
type Reply =
  | ["ok", Array<"new" | number | Row>]
  | ["conflict", number, number | Row]
  | ["job-missing"]
  | ["unreadable", number, Row];

/**
 * Reserves the items' records and adds the new requests' jobs with pciEnqueue (see above).
 * Returns each item's result, or "job-missing" when a duplicate's open record has lost its job:
 * nothing is written then, and the caller runs the transaction that gives it back (reserve.ts).
 * @throws IdempotencyConflictError (nothing of the batch written)
 */
export async function enqueueInOneScript(
  redis: RedisConnection,
  queue: Queue,
  items: readonly PreparedRequest[],
  jobOptions: JobsOptions,
  outcomeKeyPrefix: string,
): Promise<SubmissionResult[] | "job-missing"> {
  return producerSpan(queue, "addBulk", queue.name, async (telemetryMetadata) => {
    const opts: JobsOptions = telemetryMetadata
      ? { ...jobOptions, telemetry: { metadata: telemetryMetadata } }
      : jobOptions;
    const records = items.map(newRecord);
    let bullKeys: string[] | undefined;
    const createdAt = records[0]!.createdAt;
    const args: Array<string | Buffer> = [queue.toKey(""), outcomeKeyPrefix, openRecordScore(createdAt), createdAt];
    items.forEach((item, i) => {
      const add = addJobArguments(queue, { name: REQUEST_JOB_NAME, data: item.data, opts, jobId: item.jobId });
      bullKeys ??= add.keys;
      const record = records[i]!;
      for (const f of NEW_RECORD_FIELDS) args.push(record[f]);
      args.push(...add.args);
    });
    const keys = [...bullKeys!, openRecordsKey(items[0]!.recordKey), ...items.map((i) => i.recordKey)];
    const reply = (await runScript(redis, COMMAND, ENQUEUE_LUA, keys, args)) as Reply;

    if (reply[0] === "job-missing") return "job-missing";
    if (reply[0] === "unreadable") {
      throw unreadableRecordError(items[reply[1] - 1]!, recordHashOf(reply[2]));
    }
    if (reply[0] === "conflict") {
      const item = items[reply[1] - 1]!;
      const against = reply[2];
      if (typeof against === "number") {
        const earlier = items[against - 1]!;
        throw new IdempotencyConflictError(
          item.idempotencyKey,
          differingFields(earlier.payload, item.payload),
          earlier.jobId,
          item.index,
          earlier.index,
        );
      }
      const record = toRecord(against);
      const judged = judgeSubmission(record, item.fp, item.payload);
      throw new IdempotencyConflictError(
        item.idempotencyKey,
        judged.verdict === "conflict" ? judged.differences : [],
        record.jobId,
        item.index,
      );
    }
    return reply[1].map((r, i) => {
      if (r === "new") return submissionResult(records[i]!, false);
      if (typeof r === "number") return submissionResult(records[r - 1]!, true);
      // A record with this very submission's job id (new for each preparation) is this
      // submission's: the script ran before and its reply was lost (ioredis sends a command again
      // after a reconnect). It is new, not a duplicate of itself.
      const record = toRecord(r);
      return submissionResult(record, record.jobId !== items[i]!.jobId);
    });
  });
}

/** A record's fields as the script returns them (RECORD_FIELDS order, null where unset) → record. */
function toRecord(row: Row): RequestRecord {
  const hash = recordHashOf(row);
  const record = parseRecord(hash);
  if (!record)
    throw new Error(
      `the request record of idempotency key ${JSON.stringify(hash.key ?? "?")} is not a record (fields: ${Object.keys(hash).join(", ")})`,
    );
  return record;
}
