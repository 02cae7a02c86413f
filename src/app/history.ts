import type { InvitationApi } from "../aws/invitation-api.js";
import { pacedLookups, type Pacing } from "../consumer/pacing.js";
import type { EventSink } from "../delivery/event-sink.js";
import { findDrift, type DriftOptions, type DriftReport } from "../history/drift.js";
import { redactUrl } from "../config/load-config.js";
import { createHistorySink } from "../history/history-sink.js";
import { migrateHistory } from "../history/migrate.js";
import { createHistoryPool, type HistoryPool } from "../history/pool.js";
import { applyRetention } from "../history/retention.js";
import type { Logger } from "../observability/logger.js";
import type { Config } from "../schemas/config.js";

/** How often a `deliver` process applies HISTORY_RETENTION_DAYS. */
export const RETENTION_EVERY_MS = 3_600_000;

/** The history as a `deliver` process runs it: its sink, its pool, its retention timer. */
export interface RunningHistory {
  pool: HistoryPool;
  /** Hand it to runSink beside the webhooks' sink. */
  sink: EventSink;
  /** Stops the retention timer and closes the pool (bounded: connections are ended, not awaited forever). */
  close(): Promise<void>;
}

/**
 * The history for a `deliver` process, or undefined without DATABASE_URL (nothing changes then).
 * At start it brings the tables up to date (migrateHistory: node-pg-migrate under its advisory
 * lock, so a fleet starting at once migrates once), then applies HISTORY_RETENTION_DAYS now and
 * every hour (any process may: history_retain takes the writers' lock). A retention run that fails
 * is logged and tried again at the next hour.
 * @throws when PostgreSQL cannot be reached or a migration fails (the process should exit: it
 * would otherwise deliver webhooks while the history falls behind unseen)
 */
export async function startHistory(config: Config, logger: Logger): Promise<RunningHistory | undefined> {
  const url = config.DATABASE_URL;
  if (!url) return undefined;
  const applied = await migrateHistory(url);
  logger.info(
    { database: redactUrl(url), applied },
    applied.length ? "history: migrations applied" : "history: up to date",
  );
  const pool = createHistoryPool(url, {
    onError: (err) => logger.warn({ err: err.message }, "history: a PostgreSQL connection failed (it is replaced)"),
  });
  const sink = createHistorySink(pool, {
    onAppended: (r) => {
      if (r.invalid > 0) logger.warn({ invalid: r.invalid }, "history: entries without eventId or type not recorded");
      logger.debug({ inserted: r.inserted, duplicates: r.duplicates }, "history: batch recorded");
    },
  });
  let timer: NodeJS.Timeout | undefined;
  const days = config.HISTORY_RETENTION_DAYS;
  if (days !== undefined) {
    const retain = () =>
      applyRetention(pool, days).then(
        (r) => r.removed > 0 && logger.info({ removed: r.removed, anchor: r.anchor?.seq }, "history: retention"),
        (err: unknown) =>
          logger.warn({ err: err instanceof Error ? err.message : String(err) }, "history: retention failed"),
      );
    void retain();
    timer = setInterval(retain, RETENTION_EVERY_MS);
    timer.unref();
  }
  return {
    pool,
    sink,
    async close() {
      if (timer) clearInterval(timer);
      await pool.end().catch(() => {});
    },
  };
}

/** `history drift` with everything but its options wired: each catalog's calls through its shared limit. */
export function createHistoryDrift(deps: {
  api: InvitationApi;
  pacing: Pacing;
  pool: HistoryPool;
}): (options: DriftOptions) => Promise<DriftReport> {
  return (options) =>
    findDrift(
      pacedLookups(deps.api, deps.pacing, deps.pacing.keyFor(options.catalog), options.signal),
      deps.pool,
      options,
    );
}
