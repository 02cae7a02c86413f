import { Queue } from "bullmq";
import type { RedisConnection } from "../../store/redis/connection.js";
import type { ScheduleView } from "./pages.js";

/** At most this many schedules are listed (a deployment has one: `discover`). */
const MAX_SCHEDULES = 100;

/**
 * The discovery schedules of the deployment's discovery queue (DISCOVERY_QUEUE), through BullMQ's
 * public API: what `discover --every` set (app/discovery-schedule.ts).
 */
export function createScheduleControl(options: { redis: RedisConnection; prefix: string; queueName: string }) {
  const queue = new Queue(options.queueName, {
    connection: options.redis,
    prefix: options.prefix,
    skipMetasUpdate: true,
  });
  queue.on("error", () => {});
  return {
    async list(): Promise<ScheduleView[]> {
      const all = await queue.getJobSchedulers(0, MAX_SCHEDULES - 1, true);
      return all.map((s) => {
        const data = (s.template?.data ?? {}) as { catalogs?: unknown };
        return {
          id: s.key,
          everyMs: typeof s.every === "number" ? s.every : s.every ? Number(s.every) : null,
          pattern: s.pattern ?? null,
          next: typeof s.next === "number" ? new Date(s.next).toISOString() : null,
          catalogs: Array.isArray(data.catalogs) ? data.catalogs.join(", ") : "",
        };
      });
    },
    /** Whether a schedule of that id existed. */
    remove: (id: string): Promise<boolean> => queue.removeJobScheduler(id),
    close: () => queue.close(),
  };
}
export type ScheduleControl = ReturnType<typeof createScheduleControl>;
