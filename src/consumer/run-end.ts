import type { ClassifiedError } from "../aws/classify-error.js";
import type { OutcomeEvent, OutcomeType } from "../contracts/outcome.js";
import { outcomeEventId } from "../request-record/identity.js";

/**
 * How a run of a request ends: the one vocabulary from the decision (decide.ts) through the run
 * (process-job.ts) to the worker shell (worker.ts), which turns each into a BullMQ signal. A
 * classified error's kind (aws/classify-error.ts) maps onto it: terminal → `outcome` (failed),
 * transient → `retry` (or `outcome` once attempts run out), throttle → `later` (or `retry` past
 * MAX_THROTTLE_REQUEUES), fault → `later`.
 */
export type RunEnd =
  /**
   * The request ends with this outcome. Returned by decide() and the settle step, it is the outcome
   * to publish; returned by processJob, it was published by this run.
   */
  | { end: "outcome"; outcome: OutcomeEvent }
  /** Tried again after BullMQ's exponential backoff: one attempt used. */
  | { end: "retry"; error: ClassifiedError }
  /** Back in the queue after `delayMs`, no attempt used, no call made (or none that counts). */
  | { end: "later"; why: LaterWhy; delayMs: number; error?: ClassifiedError; reason?: string }
  /** This run publishes nothing (see NothingWhy); `outcome` is what it would have published, if anything. */
  | { end: "nothing"; why: NothingWhy; outcome?: OutcomeEvent };

export type LaterWhy =
  /** AWS throttled the call: the shared rate has dropped for every worker (delayMs: its Retry-After, or 0). */
  | "throttle"
  /** The shared limit asked to wait longer than RATE_LIMIT_MAX_WAIT_MS, or the retry budget is spent. */
  | "limit"
  /** The worker is stopping: the job goes back before its call. */
  | "shutdown"
  /** AWS refused the worker's own credentials or signature: the worker pauses (delayMs: set by the shell). */
  | "fault";

export type NothingWhy =
  /** An outcome for this request exists already (a redelivery): nothing called, nothing published. */
  | "already-published"
  /** This run lost the job (its lock is gone, or its signal aborted): whatever it learnt is dropped. */
  | "fenced"
  /** The job's id cannot carry an outcome (a job no producer of ours made): never sent. */
  | "not-a-request"
  /**
   * BullMQ gave the job up (it lost its worker too often) and its invitation is still pending, or
   * could not be read: a lost run's call may still be on its way to AWS and land after this read,
   * so nothing is reported now. The sweeper decides after SWEEP_GRACE_MS (it reads again; still
   * pending, it gives the job back with the same ClientToken, and AWS settles it).
   */
  | "unsettled";

/**
 * What a request job returns in BullMQ (its `returnvalue`): the end of the run that finished it.
 * `eventId` is no longer stored (it is `outcomeEventId(job.id)`, request-record/identity.ts: kept
 * for every finished job, it cost ~95 B per retained request); a job finished by an older release
 * may still carry it. Read it with {@link requestJobResultEventId}.
 */
export type RequestJobResult =
  | { end: "outcome"; type: OutcomeType; eventId?: string }
  | { end: "nothing"; why: "already-published" };

/** The outcome's eventId of a request job's result (stored by older releases, derived otherwise). */
export function requestJobResultEventId(jobId: string, result: RequestJobResult): string | undefined {
  if (result.end !== "outcome") return undefined;
  return result.eventId ?? outcomeEventId(jobId);
}

/** A run's end that needs no further publication: the outcome published, or nothing to publish. */
export function isFinal(end: RunEnd): boolean {
  return end.end === "outcome" || end.end === "nothing";
}
