import type { Queue } from "bullmq";
import { failedOutcomeSchema, type FailedOutcome } from "../schemas/outcome.js";

/** Every state an outcome job can be in: consumed ones are kept as completed, refused ones as failed. */
const OUTCOME_JOB_STATES = ["completed", "failed", "waiting", "delayed", "prioritized", "active"] as const;
const PAGE = 500;

export interface FailedOutcomeFilter {
  /** Only outcomes whose `error.name` is one of these (any, when absent or empty). */
  errorNames?: readonly string[];
  /** Only outcomes completed at or after this time, ms since the epoch. */
  sinceMs?: number;
}

/**
 * The `failed` outcome events on the outcomes queue, in any state (consumed or not), that pass the
 * filter, oldest first. Outcome jobs are named after their type, so only `failed` ones are parsed.
 * Read page by page (500 jobs at a time); events the outcome schema refuses are skipped.
 */
export async function readFailedOutcomes(outcomes: Queue, filter: FailedOutcomeFilter = {}): Promise<FailedOutcome[]> {
  const names = filter.errorNames && filter.errorNames.length > 0 ? new Set(filter.errorNames) : undefined;
  const found = new Map<string, FailedOutcome>();
  for (const state of OUTCOME_JOB_STATES) {
    for (let start = 0; ; start += PAGE) {
      const jobs = await outcomes.getJobs([state], start, start + PAGE - 1, true);
      for (const job of jobs) {
        if (!job || job.name !== "failed" || !job.id || found.has(job.id)) continue;
        const parsed = failedOutcomeSchema.safeParse(job.data);
        if (!parsed.success) continue;
        const event = parsed.data;
        if (names && !names.has(event.error.name)) continue;
        if (filter.sinceMs !== undefined && Date.parse(event.completedAt) < filter.sinceMs) continue;
        found.set(job.id, event);
      }
      if (jobs.length < PAGE) break;
    }
  }
  return [...found.values()].sort((a, b) => a.completedAt.localeCompare(b.completedAt) || a.requestId.localeCompare(b.requestId));
}
