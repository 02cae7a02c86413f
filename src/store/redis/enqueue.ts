import type { JobsOptions, Queue } from "bullmq";
import { IdempotencyConflictError } from "../../errors/index.js";
import { differingFields } from "../../request-record/fingerprint.js";
import {
  judgeSubmission,
  newRecord,
  parseRecord,
  submissionResult,
  type RequestRecord,
  type SubmissionResult,
} from "../../request-record/record.js";
import { addJobArguments } from "./bullmq-add.js";
import type { RedisConnection } from "./connection.js";
import { REQUEST_JOB_NAME } from "./job-options.js";
import { identifierIndexKey, openRecordsKey } from "./keys.js";
import { runScript } from "./lua-scripts.js";
import { NEW_RECORD_FIELDS, openRecordScore, recordHashOf } from "./records.js";
import { unreadableRecordError, type KeyedRequest } from "./reserve.js";
import { SCRIPTS } from "./scripts.js";
import { producerSpan } from "./transaction.js";

/**
 * The producer's enqueue: one script per batch (lua/enqueue.lua, whose header says what it judges,
 * writes and answers, and the guarantees it keeps).
 */
type Row = Array<string | null>;
type Reply =
  | ["ok", Array<"new" | number | Row>]
  | ["conflict", number, number | Row]
  | ["job-missing"]
  | ["unreadable", number, Row];

/**
 * Reserves the items' records and adds the new requests' jobs with pciEnqueue (lua/enqueue.lua).
 * Returns each item's result, or "job-missing" when a duplicate's open record has lost its job:
 * nothing is written then, and the caller runs the transaction that gives it back (reserve.ts).
 * @throws IdempotencyConflictError (nothing of the batch written)
 */
export async function enqueueInOneScript(
  redis: RedisConnection,
  queue: Queue,
  items: readonly KeyedRequest[],
  jobOptions: JobsOptions,
  outcomeKeyPrefix: string,
  identifierIndexTtlMs: number,
): Promise<SubmissionResult[] | "job-missing"> {
  return producerSpan(queue, "addBulk", queue.name, async (telemetryMetadata) => {
    const opts: JobsOptions = telemetryMetadata
      ? { ...jobOptions, telemetry: { metadata: telemetryMetadata } }
      : jobOptions;
    const records = items.map(newRecord);
    let bullKeys: string[] | undefined;
    const createdAt = records[0]!.createdAt;
    const args: Array<string | Buffer> = [
      queue.toKey(""),
      outcomeKeyPrefix,
      openRecordScore(createdAt),
      createdAt,
      String(Math.max(1, Math.round(identifierIndexTtlMs))),
    ];
    items.forEach((item, i) => {
      const add = addJobArguments(queue, { name: REQUEST_JOB_NAME, data: item.data, opts, jobId: item.jobId });
      bullKeys ??= add.keys;
      const record = records[i]!;
      for (const f of NEW_RECORD_FIELDS) args.push(record[f]);
      args.push(...add.args);
    });
    const keys = [
      ...bullKeys!,
      openRecordsKey(items[0]!.recordKey),
      ...items.map((i) => i.recordKey),
      ...items.map((i) => identifierIndexKey(queue.opts.prefix!, queue.name, i.data.request.identifier)),
    ];
    const reply = (await runScript(redis, SCRIPTS.enqueue, keys, args)) as Reply;

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
  if (!record) {
    const key = JSON.stringify(hash.key ?? "?");
    throw new Error(
      `the request record of idempotency key ${key} is not a record (fields: ${Object.keys(hash).join(", ")})`,
    );
  }
  return record;
}
