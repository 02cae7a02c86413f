import { Queue } from "bullmq";
import type { RedisConnection } from "./connection.js";

/**
 * The discovery schedules `discover --every` leaves in Redis for the fleet (BullMQ job schedulers
 * on DISCOVERY_QUEUE). They outlive the processes that wrote them: these list and remove them.
 */
export interface ScheduleLocation {
  /** Not closed here. */
  redis: RedisConnection;
  prefix: string;
  /** DISCOVERY_QUEUE. */
  queueName: string;
}

export interface DiscoveryScheduleInfo {
  /** The scheduler's id ("discover" for the one `discover --every` writes). */
  id: string;
  queue: string;
  /** The period, ms (null for a cron pattern). */
  everyMs: number | null;
  pattern: string | null;
  /** ISO-8601: when its next discovery is due. */
  next: string | null;
  /** Discoveries it has created so far. */
  iterations: number;
  /** What each discovery does (the request `discover --every` stored: catalogs, policy, dryRun). */
  discovery: unknown;
}

/** How many schedulers one listing reads at most (a deployment has one; a bound on anything else). */
const MAX_LISTED = 1000;

export async function listDiscoverySchedules(location: ScheduleLocation): Promise<DiscoveryScheduleInfo[]> {
  const queue = new Queue(location.queueName, { connection: location.redis, prefix: location.prefix });
  try {
    const schedulers = await queue.getJobSchedulers(0, MAX_LISTED - 1, true);
    return schedulers.map((s) => ({
      id: s.id ?? s.key,
      queue: location.queueName,
      everyMs: s.every ?? null,
      pattern: s.pattern ?? null,
      next: s.next !== undefined ? new Date(s.next).toISOString() : null,
      iterations: s.iterationCount ?? 0,
      discovery: s.template?.data ?? null,
    }));
  } finally {
    await queue.close();
  }
}

/**
 * Removes the schedule `id` and its next discovery (a discovery already running finishes). Resolves
 * with whether there was one. `discover --every` processes still running recreate it when they
 * start again, not before.
 */
export async function removeDiscoverySchedule(location: ScheduleLocation, id: string): Promise<boolean> {
  const queue = new Queue(location.queueName, { connection: location.redis, prefix: location.prefix });
  try {
    return await queue.removeJobScheduler(id);
  } finally {
    await queue.close();
  }
}
