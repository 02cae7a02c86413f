/**
 * The end state of a chaos run as Redis holds it, read with raw commands: a job whose data is not
 * JSON breaks BullMQ's getters, and the harness must be able to look at exactly such jobs.
 */
import type { Redis } from "ioredis";
import { defaultIdempotencyKey, outcomeEventSchema } from "../src/index.js";
import { idempotencyRecordKey } from "../src/store/redis/keys.js";
import type { Ack, Observations, OutcomeJob } from "./evaluate.js";

export const PREFIX = "{pci-chaos}";
export const REQUESTS_QUEUE = "accept-invitation";
export const OUTCOMES_QUEUE = "invitation-outcomes";

/** Where each of these request jobs ended, and its record's state. */
export async function readRequestJobs(
  redis: Redis,
  ids: string[],
  acks: Ack[],
): Promise<Observations["requestsWithoutOutcome"]> {
  const out: Observations["requestsWithoutOutcome"] = {};
  const identifierOf = new Map(acks.map((a) => [a.jobId, a.identifier]));
  for (const id of ids.slice(0, 1000)) {
    const jobKey = `${PREFIX}:${REQUESTS_QUEUE}:${id}`;
    const [exists, failedReason, atm, stc] = await Promise.all([
      redis.exists(jobKey),
      redis.hget(jobKey, "failedReason"),
      redis.hget(jobKey, "atm"),
      redis.hget(jobKey, "stc"),
    ]);
    let state = "missing";
    if (exists) {
      state = "unknown";
      for (const s of ["completed", "failed", "delayed", "prioritized"])
        if ((await redis.zscore(`${PREFIX}:${REQUESTS_QUEUE}:${s}`, id)) !== null) state = s;
      for (const s of ["wait", "active"])
        if ((await redis.lpos(`${PREFIX}:${REQUESTS_QUEUE}:${s}`, id)) !== null) state = s === "wait" ? "waiting" : s;
    }
    const recordKey = idempotencyRecordKey(
      PREFIX,
      REQUESTS_QUEUE,
      defaultIdempotencyKey("AWS", identifierOf.get(id) ?? ""),
    );
    const [recordState, recordJob] = await redis.hmget(recordKey, "state", "jobId");
    out[id] = {
      state,
      failedReason,
      attemptsMade: Number(atm ?? 0),
      stalledCounter: Number(stc ?? 0),
      record: recordState == null ? "missing" : recordJob === id ? recordState : `${recordState}, for a later request`,
      ...(recordJob && recordJob !== id ? { recordJobId: recordJob } : {}),
    };
  }
  return out;
}

/** Outcome jobs (every state), unfinished request jobs, and request records still open. */
export async function readRedis(
  redis: Redis,
): Promise<Pick<Observations, "outcomeJobs" | "requestJobsUnfinished" | "openRecords">> {
  const key = (queue: string, part: string) => `${PREFIX}:${queue}:${part}`;
  const ids = async (queue: string, state: string) =>
    state === "wait" || state === "active" || state === "paused"
      ? redis.lrange(key(queue, state), "0", "-1")
      : redis.zrange(key(queue, state), "0", "-1");

  const requestJobsUnfinished: Record<string, string[]> = {};
  for (const state of ["wait", "active", "delayed", "prioritized", "paused", "waiting-children"]) {
    requestJobsUnfinished[state === "wait" ? "waiting" : state] =
      state === "waiting-children"
        ? await redis.zrange(key(REQUESTS_QUEUE, state), "0", "-1")
        : await ids(REQUESTS_QUEUE, state);
  }

  const outcomeJobs: OutcomeJob[] = [];
  for (const state of ["completed", "failed", "wait", "active", "delayed", "prioritized"]) {
    for (const id of await ids(OUTCOMES_QUEUE, state)) {
      const raw = await redis.hget(key(OUTCOMES_QUEUE, id), "data");
      const parsed = raw ? outcomeEventSchema.safeParse(JSON.parse(raw)) : undefined;
      const e = parsed?.success ? parsed.data : undefined;
      outcomeJobs.push({
        id,
        state: state === "wait" ? "waiting" : state,
        type: e?.type ?? null,
        identifier: e?.identifier ?? null,
        alreadyAccepted: e?.type === "accepted" ? e.alreadyAccepted : false,
        errorName: e?.type === "failed" ? e.error.name : null,
      });
    }
  }

  const openRecords: Array<{ jobId: string; state: string }> = [];
  let cursor = "0";
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", key(REQUESTS_QUEUE, "idem:*"), "COUNT", 1000);
    cursor = next;
    for (const k of keys) {
      const [state, jobId] = await redis.hmget(k, "state", "jobId");
      if (state !== "completed") openRecords.push({ jobId: jobId ?? k, state: state ?? "?" });
    }
  } while (cursor !== "0");
  return { outcomeJobs, requestJobsUnfinished, openRecords };
}
