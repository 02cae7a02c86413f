import { canceledEvent, envelopeOf, salvagedEnvelope } from "./outcome-events.js";
import { CancelValidationError, RequestNotCancelableError, RequestNotFoundError } from "../errors/index.js";
import { cancelIssues } from "../schemas/cancel.js";
import { acceptJobDataSchema } from "../schemas/job.js";
import type { CanceledOutcome, OutcomeEvent } from "../schemas/outcome.js";
import type { JobStore, OutcomeStore } from "../store/request-store.js";

export interface CancelDeps {
  /** The request store (its job, its outcome, the publication unless started). */
  store: Pick<OutcomeStore, "publishUnlessStarted" | "readOutcome"> & Pick<JobStore, "job" | "jobState" | "removeJob">;
  now?: () => Date;
}

/**
 * Cancels a request that has not started (its job waiting, delayed or prioritized): it ends with
 * exactly one outcome, `canceled`, published together with the completion of its record (one
 * MULTI, fenced like a worker's publication: it happens only while no run holds the job), then its
 * job is removed. The outcome, not the removal, is what counts: if the process dies between the
 * two, the job stays queued, and the worker that takes it finds its outcome and finishes without
 * calling AWS. Canceling again returns the same outcome.
 * @throws CancelValidationError when `requestId` cannot be a request id or `reason` is not 1-256
 *   characters (before the store is asked anything: see assertCancelArguments)
 * @throws RequestNotCancelableError (with `state`) when the request is running or finished
 * @throws RequestNotFoundError when neither its job nor its outcome exists
 */
export async function cancelRequest(
  deps: CancelDeps,
  requestId: string,
  options: { reason?: string } = {},
): Promise<CanceledOutcome> {
  assertCancelArguments(requestId, options);
  const { store } = deps;
  const now = deps.now ?? (() => new Date());
  const job = await store.job(requestId);
  if (!job) return answerWithoutJob(deps, requestId);

  const parsed = acceptJobDataSchema.safeParse(job.data);
  const envelope = parsed.success
    ? envelopeOf(requestId, parsed.data, job.attemptsMade + parsed.data.throttleRequeues, now())
    : salvagedEnvelope(requestId, job.data, now());
  const event = canceledEvent(envelope, options.reason ?? null) as CanceledOutcome;
  const result = await store.publishUnlessStarted(
    event,
    parsed.success ? { idempotencyKey: parsed.data.idempotencyKey } : {},
  );
  if (typeof result === "object") throw new RequestNotCancelableError(requestId, result.started);
  if (result === "already-published") {
    const outcome = await store.readOutcome(requestId);
    if (outcome?.type !== "canceled") {
      throw new RequestNotCancelableError(requestId, stateOf(outcome, await store.jobState(requestId)));
    }
    await store.removeJob(requestId); // a cancel that died before removing it
    return outcome;
  }
  // A run may have taken the job between the publication and here (its lock makes the removal
  // fail): that run finds the outcome and ends without calling AWS.
  await store.removeJob(requestId);
  return event;
}

/**
 * The rules of a cancel's arguments, for every caller (the CLI checks them before it connects):
 * the id must be one of ours (REQUEST_ID: anything else would read one of BullMQ's own keys as a
 * job), the reason 1-256 characters (the HTTP body's rule).
 * @throws CancelValidationError naming each field and its rule
 */
export function assertCancelArguments(requestId: string, options: { reason?: string } = {}): void {
  const issues = cancelIssues(requestId, options);
  if (issues.length > 0) throw new CancelValidationError(issues);
}

/** The job is gone: its outcome says how the request ended (a canceled one is canceled again). */
async function answerWithoutJob(deps: CancelDeps, requestId: string): Promise<CanceledOutcome> {
  const outcome = await deps.store.readOutcome(requestId);
  if (!outcome) throw new RequestNotFoundError(requestId);
  if (outcome.type === "canceled") return outcome;
  throw new RequestNotCancelableError(requestId, stateOf(outcome, "unknown"));
}

/** A finished request's state as status lookups name it: its job's, or its outcome's. */
function stateOf(outcome: OutcomeEvent | undefined, jobState: string): string {
  if (jobState !== "unknown") return jobState;
  if (outcome?.type === "failed") return "failed";
  return outcome ? "completed" : "unknown";
}
