import type { Config } from "../schemas/config.js";
import type { RequestStore } from "../store/request-store.js";
import { nextFailedCursor, sweepOnce, type SweepReport } from "../consumer/sweep.js";
import { pacedLookups, type Pacing } from "../consumer/pacing.js";
import type { InvitationApi } from "../aws/invitation-api.js";
import type { Logger } from "../observability/logger.js";

export interface Sweeper {
  /**
   * One sweep: by default only if this process gets the fleet's lease for this interval (null
   * otherwise); `force` sweeps now whatever the lease (an operator's or a test's explicit sweep).
   */
  sweep(options?: { force?: boolean }): Promise<SweepReport | null>;
  /** Repairs unreadable jobs now (a worker saw one fail to parse). */
  repairSoon(): void;
  stop(): void;
}

/**
 * Runs the sweeper of consumer/sweep.ts every SWEEP_INTERVAL_MS, in one process of the fleet at a
 * time (the store's sweep lease), and repairs jobs the queue cannot read. Every worker process
 * starts one; whichever takes the lease sweeps.
 */
export function startSweeper(deps: {
  config: Config;
  store: RequestStore;
  api: InvitationApi;
  pacing: Pacing;
  logger: Logger;
}): Sweeper {
  const { config, store, logger } = deps;
  const holder = `${process.pid}-${Math.random().toString(36).slice(2)}`;

  const repair = async () => {
    const repaired = await store.repairUnreadableJobs();
    if (repaired.length > 0) {
      logger.warn(
        { jobIds: repaired.slice(0, 20), count: repaired.length },
        "jobs BullMQ could not read were rewritten to end as InvalidJob",
      );
    }
  };

  const sweep = async (options: { force?: boolean } = {}): Promise<SweepReport | null> => {
    const leased = await store.takeSweepLease(holder, Math.max(1000, config.SWEEP_INTERVAL_MS));
    if (!leased && !options.force) return null;
    const startedAt = Date.now();
    await repair();
    const previous = (await store.sweepCursor()) ?? startedAt - config.RETENTION_SECONDS * 1000;
    const report = await sweepOnce(
      {
        store,
        // Every look-up counts against the shared limit of its catalog, as a worker's do.
        lookupsFor: (catalog) => pacedLookups(deps.api, deps.pacing, deps.pacing.keyFor(catalog)),
      },
      {
        graceMs: config.SWEEP_GRACE_MS,
        batch: 500,
        maxRevivals: config.SWEEP_MAX_REVIVALS,
        failedSinceMs: previous - config.SWEEP_GRACE_MS,
      },
    );
    if (report.fault) {
      // Stopped early: the failed jobs not looked at are looked at from the same cursor next time.
      logger.warn(
        { ...report },
        "sweep stopped: AWS refused a look-up for the worker's own fault (credentials, signature); " +
          "the rest waits for the next sweep",
      );
      return report;
    }
    await store.setSweepCursor(nextFailedCursor(startedAt, report, config.SWEEP_GRACE_MS));
    if (report.revived + report.finished + report.deferred > 0) {
      logger.warn({ ...report }, "sweeper finished requests whose job had been lost");
    }
    return report;
  };

  let repairQueued: NodeJS.Timeout | undefined;
  const timer =
    config.SWEEP_INTERVAL_MS > 0
      ? setInterval(
          () =>
            void sweep().catch((err: unknown) =>
              logger.warn({ err: { message: (err as Error)?.message } }, "sweep failed; next time"),
            ),
          config.SWEEP_INTERVAL_MS,
        )
      : undefined;
  timer?.unref();
  return {
    sweep,
    repairSoon() {
      repairQueued ??= setTimeout(() => {
        repairQueued = undefined;
        void repair().catch(() => undefined);
      }, 1000);
      repairQueued.unref();
    },
    stop() {
      clearInterval(timer);
      clearTimeout(repairQueued);
    },
  };
}
