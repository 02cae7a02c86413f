import type { Queue } from "bullmq";
import type { RedisConnection } from "./connection.js";
import type { FailedOutcomeFilter } from "../request-store.js";
import { failedOutcomeSchema, parseStoredEvent, type FailedOutcome } from "../../schemas/outcome.js";

/**
 * Where an outcome job can be, by the key that holds its id: consumed ones are kept as completed,
 * refused ones as failed (lists and sorted sets of BullMQ's).
 */
const OUTCOME_JOB_SETS = [
  ["wait", "list"],
  ["paused", "list"],
  ["prioritized", "zset"],
  ["delayed", "zset"],
  ["active", "list"],
  ["completed", "zset"],
  ["failed", "zset"],
] as const;
const PAGE = 500;

/**
 * The `failed` outcome events on the outcomes queue (`outcomes`, read through `client`, its
 * connection or one to the same Redis), in any state (consumed or not), that pass the
 * filter, oldest first. Outcome jobs are named after their type, so only `failed` ones are parsed;
 * events the outcome schema refuses (or cannot walk) are skipped.
 *
 * The ids of every state are read in one MULTI: a snapshot. Read state by state and page by page,
 * a job a consumer moved from waiting to completed between two reads was in neither (a redrive run
 * beside a draining consumer missed 119 of 3,013 failures), and a page shifted by jobs leaving a
 * list skipped others. The jobs' names and data are then read 500 at a time (a job removed by its
 * retention meanwhile is gone, and skipped).
 */
export async function readFailedOutcomes(
  outcomes: Queue,
  client: RedisConnection,
  filter: FailedOutcomeFilter = {},
): Promise<FailedOutcome[]> {
  const names = filter.errorNames && filter.errorNames.length > 0 ? new Set(filter.errorNames) : undefined;
  const snapshot = client.multi();
  for (const [set, type] of OUTCOME_JOB_SETS) {
    if (type === "list") snapshot.lrange(outcomes.toKey(set), 0, -1);
    else snapshot.zrange(outcomes.toKey(set), "0", "-1");
  }
  const replies = (await snapshot.exec()) ?? [];
  const ids = new Set<string>();
  for (const [err, reply] of replies) {
    if (err) throw err;
    for (const id of reply as string[]) ids.add(id);
  }

  const found: FailedOutcome[] = [];
  const all = [...ids];
  for (let start = 0; start < all.length; start += PAGE) {
    const page = all.slice(start, start + PAGE);
    const read = client.pipeline();
    for (const id of page) read.hmget(outcomes.toKey(id), "name", "data");
    for (const [err, reply] of (await read.exec()) ?? []) {
      if (err) throw err;
      const [name, data] = reply as [string | null, string | null];
      if (name !== "failed" || data === null) continue;
      const event = parseFailedOutcome(data);
      if (!event) continue;
      if (names && !names.has(event.error.name)) continue;
      if (filter.sinceMs !== undefined && Date.parse(event.completedAt) < filter.sinceMs) continue;
      found.push(event);
    }
  }
  return found.sort((a, b) => a.completedAt.localeCompare(b.completedAt) || a.requestId.localeCompare(b.requestId));
}

/** A stored event's JSON → the failed outcome, or undefined when it is none (not JSON, refused by the schema, or too
 * deep for it). */
function parseFailedOutcome(json: string): FailedOutcome | undefined {
  let data: unknown;
  try {
    data = JSON.parse(json);
  } catch {
    return undefined;
  }
  const parsed = parseStoredEvent(failedOutcomeSchema, data);
  return parsed.success ? parsed.data : undefined;
}
