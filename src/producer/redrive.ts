import { DEFAULT_OPERATION, operationOf } from "../operations/index.js";
import { formatFieldIssues } from "../schemas/issues.js";
import type { FailedOutcome, OutcomeEvent } from "../contracts/outcome.js";
import { validateRequest } from "./validate-request.js";
import { enqueueEach, previewedDispositions, type Disposition } from "./enqueue-each.js";
import type { EnqueueResult, RedriveItem } from "./producer.js";
import type { ReservationPreview } from "../request-record/record.js";

/**
 * Redrive: run again the requests whose outcome was `failed` (e.g. every AccessDeniedException of
 * the last day, once the IAM policy is fixed). Each is a new request, with the old one's catalog,
 * identifier, action, reason, metadata and correlationId, idempotency key `redrive:<old request
 * id>` and a ClientToken derived from that key, whose job carries `redriveOf`: its run reads the
 * invitation before any call (processJob). Redriving twice redrives once (the second finds the
 * first: a duplicate). Pure orchestration over ports.
 */
export interface RedrivePorts {
  /** Failed outcome events matching the filter, oldest first (outcomes/failed-outcomes.ts). */
  failedOutcomes(filter: { errorNames?: readonly string[]; sinceMs?: number }): Promise<FailedOutcome[]>;
  enqueueRedrives(items: readonly RedriveItem[]): Promise<EnqueueResult[]>;
  previewRedrives(items: readonly RedriveItem[]): Promise<ReservationPreview[]>;
  now?: () => Date;
}

export interface RedriveOptions {
  /** Only failures with one of these `error.name`s (any, when empty). */
  errorNames?: readonly string[];
  /** Only failures completed within this many ms before now. */
  sinceMs?: number;
  /** List what would be redriven, write nothing. @defaultValue false */
  dryRun?: boolean;
  /** At most this many failures, the oldest first (the others stay failed; run again for more). */
  limit?: number;
  /** Called after each batch: failures handled so far, of how many (a CLI's progress line). */
  onProgress?: (done: number, total: number) => void;
}

/** One failed request and what the redrive did with it. */
export interface RedrivenRequest {
  /** The failed request. */
  requestId: string;
  catalog: string | null;
  identifier: string | null;
  action: string | null;
  error: string;
  failedAt: string;
  /** redriven (a dry run: would be); duplicate (redriven before); conflict; skipped (cannot be redriven). */
  result: "redriven" | "duplicate" | "conflict" | "skipped";
  /** The redrive's request (new, or the one of an earlier redrive); null for a dry run's new one. */
  jobId?: string | null;
  /** skipped: why; conflict: what differs. */
  detail?: string;
}

export interface RedriveSummary {
  dryRun: boolean;
  errorNames: string[];
  since: string | null;
  /** Failed outcomes that matched. */
  found: number;
  /** The --limit given: only the oldest `limit` of those found were handled (requests lists them). */
  limit?: number;
  redriven: number;
  duplicates: number;
  conflicts: number;
  skipped: number;
  requests: RedrivenRequest[];
}

const BATCH = 500;

export async function redrive(ports: RedrivePorts, options: RedriveOptions = {}): Promise<RedriveSummary> {
  const now = ports.now ?? (() => new Date());
  // A window reaching before 1970 is all of it: the cutoff stays a date JavaScript can write (a
  // `since` of 999999999d would be before its range, and toISOString throws).
  const sinceMs = options.sinceMs !== undefined ? Math.max(0, now().getTime() - options.sinceMs) : undefined;
  const errorNames = [...(options.errorNames ?? [])];
  const failed = await ports.failedOutcomes({ errorNames, ...(sinceMs !== undefined ? { sinceMs } : {}) });
  const summary: RedriveSummary = {
    dryRun: options.dryRun === true,
    errorNames,
    since: sinceMs !== undefined ? new Date(sinceMs).toISOString() : null,
    found: failed.length,
    ...(options.limit !== undefined ? { limit: options.limit } : {}),
    redriven: 0,
    duplicates: 0,
    conflicts: 0,
    skipped: 0,
    requests: [],
  };
  const toEnqueue: Array<{ entry: RedrivenRequest; item: RedriveItem }> = [];
  const selected = options.limit !== undefined ? failed.slice(0, options.limit) : failed;
  for (const event of selected) {
    const entry: RedrivenRequest = {
      requestId: event.requestId,
      catalog: event.catalog,
      identifier: event.identifier,
      action: event.action,
      error: event.error.name,
      failedAt: event.completedAt,
      result: "skipped",
    };
    summary.requests.push(entry);
    const request = requestOf(event);
    const checked = validateRequest(request);
    if (event.action === null || !checked.ok) {
      entry.detail =
        event.action === null
          ? "its action could not be read"
          : `its request cannot be rebuilt: ${formatFieldIssues(checked.ok ? [] : checked.issues)}`;
      summary.skipped++;
      continue;
    }
    toEnqueue.push({ entry, item: { request, redriveOf: event.requestId } });
  }

  for (let i = 0; i < toEnqueue.length; i += BATCH) {
    const batch = toEnqueue.slice(i, i + BATCH);
    const items = batch.map((b) => b.item);
    const dispositions: Disposition[] = summary.dryRun
      ? previewedDispositions(await ports.previewRedrives(items))
      : await enqueueEach(
          (some) => ports.enqueueRedrives(some as RedriveItem[]),
          items,
          (some) => ports.previewRedrives(some as RedriveItem[]),
        );
    dispositions.forEach((d, j) => {
      const entry = batch[j]!.entry;
      switch (d.disposition) {
        case "enqueued":
          entry.result = "redriven";
          entry.jobId = d.jobId;
          summary.redriven++;
          break;
        case "duplicate":
          entry.result = "duplicate";
          entry.jobId = d.jobId;
          summary.duplicates++;
          break;
        case "conflict":
          entry.result = "conflict";
          entry.detail =
            `its redrive key holds another payload (differs in: ` +
            `${d.differences.join(", ")}; existing job ${d.existingJobId})`;
          summary.conflicts++;
          break;
      }
    });
    options.onProgress?.(Math.min(i + BATCH, toEnqueue.length), toEnqueue.length);
  }
  return summary;
}

/** The request a failed outcome came from, as callers submit one (minus its key and token: a redrive has its own). */
function requestOf(event: OutcomeEvent): Record<string, unknown> {
  return {
    catalog: event.catalog,
    identifier: event.identifier,
    // The action and its own fields as the request gave them (an accept: none, as it was submitted).
    ...(event.action && event.action !== DEFAULT_OPERATION.action
      ? { action: event.action, ...operationOf(event.action).requestFieldsOf(event) }
      : {}),
    ...(event.metadata !== null ? { metadata: event.metadata } : {}),
    ...(event.correlationId !== null ? { correlationId: event.correlationId } : {}),
  };
}
