import type { JobsOptions, Queue } from "bullmq";
import type { RedisConnection } from "./connection.js";
import { UNPARSEABLE_JOB_MARKER } from "../../schemas/job.js";

/**
 * What the sweeper needs to know of BullMQ's jobs, and the repair of jobs BullMQ cannot read.
 * Reads BullMQ's job hash fields (`data`, `opts`, `atm`, `finishedOn`) and state sets by their
 * layout, which test/integration/sweeper.test.ts checks against a real BullMQ.
 */
export type InspectedStatus = "live" | "completed" | "failed" | "orphan" | "missing";

const LIVE = new Set(["waiting", "active", "delayed", "prioritized", "waiting-children"]);

export async function inspectJob(queue: Queue, redis: RedisConnection, jobId: string): Promise<InspectedStatus> {
  const state = await queue.getJobState(jobId);
  if (LIVE.has(state)) return "live";
  if (state === "completed" || state === "failed") return state;
  return (await redis.exists(queue.toKey(jobId))) === 1 ? "orphan" : "missing";
}

/** Jobs of the failed set that failed since `sinceMs` (its score is the time they failed), oldest first. */
export async function failedJobsSince(
  queue: Queue,
  redis: RedisConnection,
  sinceMs: number,
  limit: number,
): Promise<Array<{ jobId: string; data: unknown; attemptsMade: number; finishedOn: number }>> {
  const ids = await redis.zrangebyscore(queue.keys.failed!, String(sinceMs), "+inf", "LIMIT", 0, limit);
  const rows = await Promise.all(ids.map((id) => redis.hmget(queue.toKey(id), "data", "atm", "finishedOn")));
  return ids.map((jobId, i) => {
    const [data, atm, finishedOn] = rows[i]!;
    return {
      jobId,
      data: parseOrRaw(data ?? null),
      attemptsMade: Number(atm ?? 0) || 0,
      finishedOn: Number(finishedOn ?? 0) || 0,
    };
  });
}

/**
 * Gives a request its job back: a failed job is retried with fresh attempts; an orphaned hash (in no
 * state set) is removed and the job added again; a missing one is added again, same id and data.
 */
export async function reviveJob(
  queue: Queue,
  jobId: string,
  status: InspectedStatus,
  job: { name: string; data: unknown; opts: JobsOptions },
): Promise<void> {
  if (status === "failed") {
    const existing = await queue.getJob(jobId);
    if (existing) {
      await existing.retry("failed", { resetAttemptsMade: true, resetAttemptsStarted: true });
      return;
    }
  }
  if (status === "orphan" || status === "completed") await queue.remove(jobId);
  await queue.add(job.name, job.data, { ...job.opts, jobId });
}

/**
 * BullMQ cannot read a job whose `data` or `opts` field is not JSON (written by hand, by another
 * tool, or corrupted): its worker throws before any processor runs, and the job cycles between
 * wait and active for ever. This rewrites such a job's `data` as `{ pciUnparseableJob: {...} }`
 * (a part of what was there) and its `opts` as `{}`, so the next run reads it, fails the job
 * schema, and ends the request with an InvalidJob outcome. Looks at the active list and the head
 * of the wait list; returns the ids it repaired.
 */
export async function repairUnparseableJobs(queue: Queue, redis: RedisConnection, waitHead = 100): Promise<string[]> {
  const [active, waiting] = await Promise.all([
    redis.lrange(queue.keys.active!, 0, -1),
    redis.lrange(queue.keys.wait!, -waitHead, -1),
  ]);
  const repaired: string[] = [];
  for (const id of new Set([...active, ...waiting])) {
    const [data = null, opts = null] = await redis.hmget(queue.toKey(id), "data", "opts");
    if (data === null && opts === null) continue;
    const dataOk = data === null || parses(data);
    const optsOk = opts === null || parses(opts);
    if (dataOk && optsOk) continue;
    const excerpt = (s: string | null) => (s === null ? null : s.slice(0, 200));
    await redis.hset(
      queue.toKey(id),
      "data",
      JSON.stringify({ [UNPARSEABLE_JOB_MARKER]: { data: excerpt(data), opts: excerpt(opts) } }),
      "opts",
      "{}",
    );
    repaired.push(id);
  }
  return repaired;
}

function parses(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

function parseOrRaw(text: string | null): unknown {
  if (text === null) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
