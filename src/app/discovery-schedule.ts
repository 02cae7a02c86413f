import { Queue, Worker, type Job } from "bullmq";
import type { Logger } from "../observability/logger.js";
import type { RedisConnection } from "../store/redis/connection.js";
import { canonicalJson } from "../request-record/fingerprint.js";
import { toFieldIssues, formatFieldIssues } from "../schemas/issues.js";
import { discoveryRequestSchema, HOLD_ALL_POLICY, type DiscoveryRequest } from "../schemas/policy.js";
import type { DiscoverySummary } from "../producer/discover.js";
import type { Discovery } from "./discovery.js";
import { withScheduleLock } from "../store/redis/lock.js";

/** The one job scheduler of a deployment's discovery queue: every `discover --every` process shares it. */
export const DISCOVERY_SCHEDULER_ID = "discover";
const DISCOVERY_JOB_NAME = "discover";
/** Finished discovery jobs kept (their summaries, without the per-invitation list) for a look back. */
const KEEP_FINISHED = 100;

/** One scheduled discovery as run here: the summary, and the period slot it was scheduled for. */
export interface ScheduledRun {
  summary: DiscoverySummary;
  jobId: string;
  /** The slot of the schedule this run belongs to: one run per slot, fleet-wide. */
  scheduledAt: string;
}

export interface DiscoveryScheduleOptions {
  connection: RedisConnection;
  prefix: string;
  /** DISCOVERY_QUEUE. */
  queueName: string;
  everyMs: number;
  /** What to discover; the last process to start with other settings sets them for the fleet. */
  request: DiscoveryRequest;
  run: Discovery;
  logger: Logger;
  /** Each discovery this process ran. */
  onRun(run: ScheduledRun): void;
}

export interface DiscoverySchedule {
  /** Stops taking discovery jobs (a run in progress finishes first); the schedule stays, for the rest of the fleet. */
  close(): Promise<void>;
}

/**
 * `discover --every`: one discovery per period for the whole fleet, however many processes run.
 * The period is a BullMQ job scheduler on the discovery queue (`upsertJobScheduler`): it creates one
 * job per period slot (its id names the slot), and every process runs a Worker of that queue, so
 * whichever is free takes the slot's job and the others do not (a per-process timer would run the
 * discovery once per process). The scheduler is written only when it is missing or its period or
 * discovery differ from this process's: a second process with the same settings changes nothing.
 * A process that dies mid-run leaves its job to BullMQ's stalled check (another process runs it);
 * running a discovery twice is harmless, it enqueues nothing twice.
 */
export async function startDiscoverySchedule(options: DiscoveryScheduleOptions): Promise<DiscoverySchedule> {
  const { connection, prefix, queueName, logger } = options;
  const queue = new Queue(queueName, { connection, prefix });
  queue.on("error", (err) => logger.warn({ err: { message: err.message } }, "discovery queue error"));
  const data = discoveryRequestSchema.parse(options.request);
  // One process at a time reads and writes the schedule, so processes started together agree on
  // who sets it and who joins it.
  await withScheduleLock(connection, { prefix, queueName }, async () => {
    const existing = await queue.getJobScheduler(DISCOVERY_SCHEDULER_ID);
    if (
      existing &&
      existing.every === options.everyMs &&
      canonicalJson(existing.template?.data ?? null) === canonicalJson(data)
    ) {
      logger.info({ everyMs: options.everyMs, catalogs: data.catalogs }, "joined the fleet's discovery schedule");
      return;
    }
    await queue.upsertJobScheduler(
      DISCOVERY_SCHEDULER_ID,
      { every: options.everyMs },
      {
        name: DISCOVERY_JOB_NAME,
        data,
        opts: { attempts: 1, removeOnComplete: { count: KEEP_FINISHED }, removeOnFail: { count: KEEP_FINISHED } },
      },
    );
    logger.info(
      {
        everyMs: options.everyMs,
        catalogs: data.catalogs,
        dryRun: data.dryRun ?? false,
        replaced: existing !== undefined,
      },
      "discovery schedule set for the fleet",
    );
  });

  const worker = new Worker(
    queueName,
    async (job: Job) => {
      // The job carries the fleet's discovery (the scheduler's template), not this process's flags.
      const parsed = discoveryRequestSchema.safeParse(job.data);
      if (!parsed.success)
        throw new Error(
          `discovery job ${job.id} does not match the discovery ` +
            `schema: ${formatFieldIssues(toFieldIssues(parsed.error))}`,
        );
      const { catalogs, policy, dryRun } = parsed.data;
      const summary = await options.run({ catalogs, policy: policy ?? HOLD_ALL_POLICY, dryRun: dryRun ?? false });
      const scheduledAt = new Date(slotOf(job)).toISOString();
      options.onRun({ summary, jobId: job.id ?? "", scheduledAt });
      const { invitations: _list, ...counts } = summary;
      return { ...counts, scheduledAt };
    },
    { connection, prefix, concurrency: 1 },
  );
  worker.on("error", (err) => logger.warn({ err: { message: err.message } }, "discovery worker error"));
  worker.on("failed", (job, err) =>
    logger.error(
      { jobId: job?.id, err: { name: err.name, message: err.message } },
      "scheduled discovery failed; the next period tries again",
    ),
  );
  await worker.waitUntilReady();

  let closing: Promise<void> | undefined;
  return {
    close: () =>
      (closing ??= (async () => {
        await worker.close();
        await queue.close();
      })()),
  };
}

/** The period slot of a scheduler's job: BullMQ names each `repeat:<scheduler id>:<slot ms>`. */
function slotOf(job: Job): number {
  const slot = /:(\d+)$/.exec(job.id ?? "")?.[1];
  return slot !== undefined ? Number(slot) : job.timestamp + (job.delay ?? 0);
}
