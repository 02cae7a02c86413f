import { Queue, type Job } from "bullmq";
import type { RedisConnection } from "./connection.js";

/**
 * Parked outcome events: outcome jobs in the outcomes queue's failed set. A consumer parks an
 * event it gave up on (see consumeOutcomes); outcome jobs are published with `removeOnFail: false`,
 * so a parked event stays until someone replays it. Replaying moves it back to the waiting list,
 * with a fresh budget, so consumers deliver it again as if it had just been published.
 */

export interface ParkedOutcome {
  /** The outcome job's id: the request id. */
  requestId: string;
  eventId: string | null;
  /** `accepted` / `failed`, or null when the job is not an outcome event. */
  type: string | null;
  identifier: string | null;
  /** Why it was parked (BullMQ's failedReason). */
  reason: string;
  /** Handler failures (BullMQ attemptsMade). */
  handlerFailures: number;
  /** Times its consumer was lost while handling it (BullMQ stalledCounter). */
  lostConsumers: number;
  /** ISO-8601, when it was parked. */
  parkedAt: string | null;
}

export interface ParkedLocation {
  /** Not closed here. */
  redis: RedisConnection;
  prefix: string;
  queueName: string;
}

export interface ReplayResult {
  /** Parked events moved back to be delivered (with dryRun: that would be). */
  replayed: string[];
  /** Requested ids that are not parked, with the state they are in ("missing" when there is no such job). */
  notParked: Array<{ requestId: string; state: string }>;
  dryRun: boolean;
}

const PAGE = 500;

/** Every parked outcome event, oldest first. */
export async function listParkedOutcomes(location: ParkedLocation): Promise<ParkedOutcome[]> {
  return withQueue(location, async (queue) => (await parkedJobs(queue)).map(describe));
}

/**
 * Moves parked outcome events back to the waiting list (BullMQ `job.retry()`), each with a fresh
 * budget: its handler failures and lost-consumer count start again from 0, so the consumer's
 * `maxAttempts` and `maxStalledCount` apply anew. `ids` names request ids; without ids (or with
 * `all`) every parked event is replayed. An event replayed twice at once is replayed once: the
 * second attempt finds it no longer parked and reports its state.
 */
export async function replayParkedOutcomes(
  location: ParkedLocation,
  options: { ids?: string[]; dryRun?: boolean } = {},
): Promise<ReplayResult> {
  return withQueue(location, async (queue) => {
    const result: ReplayResult = { replayed: [], notParked: [], dryRun: options.dryRun === true };
    const targets: Job[] = [];
    if (options.ids && options.ids.length > 0) {
      for (const id of new Set(options.ids)) {
        // An id naming one of BullMQ's own keys (`events`, `id`: not hashes) is no job: never read as one.
        const job = await queue.getJob(id).catch((err: unknown) => {
          if (/WRONGTYPE/.test((err as Error)?.message ?? "")) return undefined;
          throw err;
        });
        const state = job ? await job.getState() : "missing";
        if (job && state === "failed") targets.push(job);
        else result.notParked.push({ requestId: id, state });
      }
    } else {
      targets.push(...(await parkedJobs(queue)));
    }
    for (const job of targets) {
      if (result.dryRun) {
        result.replayed.push(job.id!);
        continue;
      }
      try {
        // The lost-consumer count is not reset by retry(); without this, one more lost consumer
        // would park the event again at once.
        await location.redis.hdel(queue.toKey(job.id!), "stc");
        await job.retry("failed", { resetAttemptsMade: true, resetAttemptsStarted: true });
        result.replayed.push(job.id!);
      } catch {
        result.notParked.push({ requestId: job.id!, state: await job.getState() });
      }
    }
    return result;
  });
}

async function parkedJobs(queue: Queue): Promise<Job[]> {
  const jobs: Job[] = [];
  // The failed set is ordered newest first; page through it, then oldest first.
  for (let start = 0; ; start += PAGE) {
    const page = (await queue.getFailed(start, start + PAGE - 1)).filter((j): j is Job => j !== undefined);
    jobs.push(...page);
    if (page.length < PAGE) break;
  }
  return jobs.reverse();
}

function describe(job: Job): ParkedOutcome {
  const data = (job.data ?? {}) as Record<string, unknown>;
  const str = (v: unknown) => (typeof v === "string" ? v : null);
  return {
    requestId: job.id!,
    eventId: str(data.eventId),
    type: str(data.type),
    identifier: str(data.identifier),
    reason: job.failedReason ?? "",
    handlerFailures: job.attemptsMade,
    lostConsumers: job.stalledCounter ?? 0,
    parkedAt: job.finishedOn ? new Date(job.finishedOn).toISOString() : null,
  };
}

async function withQueue<T>(location: ParkedLocation, fn: (queue: Queue) => Promise<T>): Promise<T> {
  const queue = new Queue(location.queueName, { connection: location.redis, prefix: location.prefix });
  try {
    return await fn(queue);
  } finally {
    await queue.close();
  }
}
