import type { InvitationApi } from "../aws/invitation-api.js";
import { JOB_DATA_VERSION, acceptJobDataSchema, type AcceptJobData } from "../schemas/job.js";
import type { OutcomeEvent } from "../schemas/outcome.js";
import type { JobStatus, OutcomeStore, SweepStore } from "../store/request-store.js";
import { defaultIdempotencyKey } from "../request-record/identity.js";
import type { RequestRecord } from "../request-record/record.js";
import type { FingerprintPayload } from "../request-record/fingerprint.js";
import { actionOf } from "../schemas/request.js";
import { canCarryOutcome } from "../schemas/request-id.js";
import { reconcile } from "./reconcile.js";
import {
  alreadyDoneEvent,
  envelopeOf,
  failedEvent,
  invalidJobError,
  salvagedEnvelope,
} from "../outcomes/outcome-events.js";

/**
 * The sweeper: no path may end a request without its outcome. Whatever lost a request's job
 * (a BullMQ script half-run on a full Redis, an outcome that could not be written when BullMQ gave
 * the job up, a job removed by hand, a Redis failover that dropped the last writes), the request's
 * record stays open, or its job sits failed without an outcome. A sweep finds both and finishes
 * them, reconciling with the API first: an invitation found ACCEPTED (by a call whose answer was
 * lost) is reported accepted (for a reject: one found REJECTED is reported rejected); one found in
 * another final status is reported failed; one still PENDING gets its job back (same id, same
 * ClientToken), at most `maxRevivals` times. A look-up that fails leaves the request for the next
 * sweep; one that AWS refuses for the worker's own fault (credentials, signature) stops the sweep,
 * since every other look-up would be refused too: nothing is finished for a fault of ours.
 *
 * Pure orchestration over ports; the adapters (BullMQ, Redis) are wired in src/app.
 */

export interface SweepPorts {
  /** The store's records, jobs and outcomes. */
  store: SweepStore & Pick<OutcomeStore, "exists" | "publish">;
  /** The API's look-ups for a catalog, paced by the shared limit like a worker's. */
  lookupsFor(catalog: string): InvitationApi;
  now?: () => Date;
}

export interface SweepOptions {
  /** Records younger than this are left alone (their job may be on its way), ms. */
  graceMs: number;
  /** Most records and failed jobs looked at in one sweep. */
  batch: number;
  /** Revivals of one request before it is given up with a failed outcome. */
  maxRevivals: number;
  /** Failed jobs are looked at from this time (the previous sweep's start minus the grace). */
  failedSinceMs: number;
}

export interface SweepReport {
  recordsChecked: number;
  failedJobsChecked: number;
  live: number;
  revived: number;
  finished: number;
  /** Left for the next sweep: the API could not be asked, or finishing it threw (see `errors`). */
  deferred: number;
  /** Failed jobs whose id cannot carry an outcome (schemas/request-id.ts canCarryOutcome): not ours, left alone. */
  notRequests: number;
  /** What threw while finishing a request (at most 10): the sweep went on with the others. */
  errors?: Array<{ jobId: string; message: string }>;
  /**
   * The earliest failure time (finishedOn, ms) of a failed job left for the next sweep: the
   * next sweep must read failed jobs from there on (nextFailedCursor), or it would never see it
   * again (a failed job without a record is found by no other way).
   */
  retryFailedFrom?: number;
  /** Set when AWS refused a look-up for the worker's own fault: the sweep stopped there. */
  fault?: string;
}

export async function sweepOnce(ports: SweepPorts, options: SweepOptions): Promise<SweepReport> {
  const now = ports.now ?? (() => new Date());
  const report: SweepReport = {
    recordsChecked: 0,
    failedJobsChecked: 0,
    live: 0,
    revived: 0,
    finished: 0,
    deferred: 0,
    notRequests: 0,
  };
  const seen = new Set<string>();
  // One request that cannot be finished (a write refused, a job BullMQ will not take) must not
  // keep the sweeper from all the others: it is left for the next sweep, and said.
  const guarded = async (jobId: string, work: () => Promise<Finished>): Promise<Finished> => {
    try {
      return await work();
    } catch (err) {
      if ((report.errors ??= []).length < 10)
        report.errors.push({ jobId, message: err instanceof Error ? err.message : String(err) });
      return "deferred";
    }
  };

  // 1. Failed jobs without an outcome (BullMQ gave them up, and the outcome could not be written).
  for (const job of await ports.store.failedJobsSince(options.failedSinceMs, options.batch)) {
    report.failedJobsChecked++;
    seen.add(job.jobId);
    if (!canCarryOutcome(job.jobId)) {
      report.notRequests++;
      continue;
    }
    // its own 'failed' handler may still be publishing
    if (job.finishedOn > now().getTime() - options.graceMs) continue;
    const result = await guarded(job.jobId, async () => {
      if (await ports.store.exists(job.jobId)) return "nothing";
      const parsed = jobDataOf(job.data);
      if (!parsed) {
        await ports.store.publish(
          failedEvent(
            salvagedEnvelope(job.jobId, job.data, now()),
            invalidJobError("job data does not match the job schema (found by the sweeper)"),
          ),
        );
        return "finished";
      }
      return finish(
        ports,
        options,
        { jobId: job.jobId, data: parsed, status: "failed", attemptsMade: job.attemptsMade, recordKey: undefined },
        now,
      );
    });
    if (result === "deferred" || typeof result === "object")
      report.retryFailedFrom = Math.min(report.retryFailedFrom ?? Infinity, job.finishedOn);
    if (count(report, result)) return report;
  }

  // 2. Open records whose job is not live.
  for (const { recordKey, record } of await ports.store.openRecords(now().getTime() - options.graceMs, options.batch)) {
    report.recordsChecked++;
    if (!record) {
      await ports.store.forgetRecord(recordKey);
      continue;
    }
    if (seen.has(record.jobId)) continue;
    const result = await guarded(record.jobId, async () => {
      const status = await ports.store.jobStatus(record.jobId);
      if (status === "live") {
        report.live++;
        return "nothing";
      }
      return finish(
        ports,
        options,
        { jobId: record.jobId, data: jobDataFromRecord(record), status, attemptsMade: 0, recordKey },
        now,
      );
    });
    if (count(report, result)) return report;
  }
  return report;
}

type Finished = "finished" | "revived" | "deferred" | { fault: string } | "nothing";

/**
 * Where the next sweep reads failed jobs from (the sweeper's cursor; it reads from the cursor
 * minus `graceMs`): this sweep's start, or earlier when a failed job was left for the next sweep.
 */
export function nextFailedCursor(startedAt: number, report: SweepReport, graceMs: number): number {
  return report.retryFailedFrom === undefined ? startedAt : Math.min(startedAt, report.retryFailedFrom + graceMs);
}

/** Counts a result; true when the sweep must stop (a fault of the worker's own). */
function count(report: SweepReport, result: Finished): boolean {
  if (result === "finished") report.finished++;
  else if (result === "revived") report.revived++;
  else if (result === "deferred") report.deferred++;
  else if (typeof result === "object") {
    report.deferred++;
    report.fault = result.fault;
    return true;
  }
  return false;
}

async function finish(
  ports: SweepPorts,
  options: SweepOptions,
  job: { jobId: string; data: AcceptJobData; status: JobStatus; attemptsMade: number; recordKey: string | undefined },
  now: () => Date,
): Promise<Finished> {
  if (await ports.store.exists(job.jobId)) return "nothing";
  const { catalog, identifier } = job.data.request;
  const found = await reconcile(ports.lookupsFor(catalog), catalog, identifier, undefined, actionOf(job.data.request));
  const envelope = () => envelopeOf(job.jobId, job.data, job.attemptsMade + job.data.throttleRequeues, now());
  const publish = async (event: OutcomeEvent): Promise<Finished> => {
    await ports.store.publish(event, { idempotencyKey: job.data.idempotencyKey });
    return "finished";
  };
  switch (found.found) {
    case "accepted":
    case "rejected":
      return publish(alreadyDoneEvent(envelope(), found));
    case "final":
      return publish(failedEvent(envelope(), lostError(`the invitation is ${found.status}`, found.status)));
    case "error":
      return found.error.kind === "fault" ? { fault: found.error.name } : "deferred";
    case "pending": {
      const revivals = job.recordKey ? await ports.store.countRevival(job.recordKey) : 1;
      if (revivals > options.maxRevivals) {
        return publish(failedEvent(envelope(), lostError(`its job was lost ${revivals - 1} time(s); given up`)));
      }
      await ports.store.reviveJob(job.jobId, job.status, job.data);
      return "revived";
    }
  }
}

function lostError(what: string, invitationStatus?: string) {
  return {
    name: "RetriesExhausted",
    reason: "JobLost",
    message: `the request's job ended without an outcome (found by the sweeper); ${what}`,
    httpStatus: null,
    awsRequestId: null,
    retryable: true,
    ...(invitationStatus ? { invitationStatus } : {}),
  };
}

/** Valid job data, or undefined. */
function jobDataOf(raw: unknown): AcceptJobData | undefined {
  const parsed = acceptJobDataSchema.safeParse(raw);
  return parsed.success ? parsed.data : undefined;
}

/** The job data of a request, rebuilt from its record (what the producer wrote with it). */
export function jobDataFromRecord(record: RequestRecord): AcceptJobData {
  const payload = JSON.parse(record.payload) as FingerprintPayload & {
    catalog: string;
    identifier: string;
    metadata?: Record<string, never>;
  };
  const callerKey = record.key !== defaultIdempotencyKey(payload.catalog, payload.identifier);
  return {
    v: JOB_DATA_VERSION,
    request: {
      catalog: payload.catalog,
      identifier: payload.identifier,
      ...(payload.action !== undefined ? { action: payload.action } : {}),
      ...(payload.reason !== undefined ? { reason: payload.reason } : {}),
      clientToken: record.clientToken,
      correlationId: record.correlationId,
      ...(payload.metadata !== undefined ? { metadata: payload.metadata } : {}),
      ...(callerKey ? { idempotencyKey: record.key } : {}),
    },
    clientToken: record.clientToken,
    idempotencyKey: record.key,
    enqueuedAt: record.createdAt,
    throttleRequeues: 0,
    ...(payload.redriveOf !== undefined ? { redriveOf: payload.redriveOf } : {}),
  };
}
