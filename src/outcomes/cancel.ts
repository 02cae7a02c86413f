import type { InvitationApi } from "../aws/invitation-api.js";
import { acceptJobDataSchema, type AcceptJobData } from "../contracts/job.js";
import type { CanceledOutcome, OutcomeEvent } from "../contracts/outcome.js";
import { actionOf } from "../contracts/request.js";
import {
  CancelUnsettledError,
  CancelValidationError,
  RequestNotCancelableError,
  RequestNotFoundError,
} from "../errors/index.js";
import { operationOf } from "../operations/index.js";
import { cancelIssues } from "../schemas/cancel.js";
import type { JobStore, OutcomeStore, StoredJob } from "../store/request-store.js";
import { canceledEvent, doneEvent, envelopeOf, failedEvent, salvagedEnvelope } from "./outcome-events.js";
import { settle } from "../operations/settle.js";

export interface CancelDeps {
  /** The request store (its job, its outcome, the publication unless started). */
  store: Pick<OutcomeStore, "publishUnlessStarted" | "readOutcome"> & Pick<JobStore, "job" | "jobState" | "removeJob">;
  /**
   * The API's look-ups for a catalog, each through the shared limit: a request that a run took
   * before may have reached AWS, and is settled by reading its invitation before anything is said.
   */
  lookupsFor(catalog: string): InvitationApi;
  now?: () => Date;
}

/**
 * Cancels a request that has not started (its job waiting, delayed or prioritized): it ends with
 * exactly one outcome, `canceled`, published together with the completion of its record (fenced
 * like a worker's publication: only while no run holds the job), then its job is removed. The
 * outcome, not the removal, is what counts: if the process dies between the two, the job stays
 * queued, and the worker that takes it finds its outcome and finishes without calling AWS.
 * Canceling again returns the same outcome.
 *
 * A request that a run took before (waiting for its retry after an error, back after a throttle,
 * a lost lock…) may have reached AWS even without an answer: its invitation is read first
 * (settle.ts), and it is canceled only if the invitation is still pending. Found in its operation's
 * done status (AWS applied an earlier attempt), the request ends with that outcome
 * (`alreadyAccepted`); found in a status it can never leave, with a failed one naming it. Either
 * way the cancel answers RequestNotCancelableError with that outcome.
 * @throws CancelValidationError when `requestId` cannot be a request id or `reason` is not 1-256
 *   characters (before the store is asked anything: see assertCancelArguments)
 * @throws RequestNotCancelableError (with `state`, and `outcome` when the read decided it) when the
 *   request is running or finished
 * @throws CancelUnsettledError when the request was sent before and its invitation could not be read
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
  const idempotencyKey = parsed.success ? { idempotencyKey: parsed.data.idempotencyKey } : {};
  const envelope = () =>
    parsed.success
      ? envelopeOf(requestId, parsed.data, job.attemptsMade + parsed.data.throttleRequeues, now())
      : salvagedEnvelope(requestId, job.data, now());
  // Running or finished: refused at once, with no read (the publication below checks again, fenced).
  if (!NOT_STARTED.has(job.state)) throw new RequestNotCancelableError(requestId, job.state);
  if (parsed.success && job.started) {
    // The request may have reached AWS: what is its invitation now?
    const instead = await settledInstead(deps, job, parsed.data, envelope);
    if (instead) {
      const result = await store.publishUnlessStarted(instead, idempotencyKey);
      if (typeof result === "object") throw new RequestNotCancelableError(requestId, result.started);
      const outcome = result === "published" ? instead : ((await store.readOutcome(requestId)) ?? instead);
      // Its job has nothing left to do (a run that takes it meanwhile finds the outcome).
      await store.removeJob(requestId);
      if (outcome.type !== "canceled") throw notCanceled(requestId, outcome);
      return outcome;
    }
  }
  const event = canceledEvent(envelope(), options.reason ?? null) as CanceledOutcome;
  const result = await store.publishUnlessStarted(event, idempotencyKey);
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
 * The outcome a started request ends with instead of `canceled`, when reading its invitation
 * decided it (done: the operation's outcome; final: failed naming the status); undefined when it
 * is still pending (it may be canceled).
 * @throws CancelUnsettledError when the read failed
 */
async function settledInstead(
  deps: CancelDeps,
  job: StoredJob,
  data: AcceptJobData,
  envelope: () => ReturnType<typeof envelopeOf>,
): Promise<OutcomeEvent | undefined> {
  const op = operationOf(actionOf(data.request));
  const { catalog, identifier } = data.request;
  const found = await settle(deps.lookupsFor(catalog), op, { catalog, identifier });
  switch (found.settled) {
    case "pending":
      return undefined;
    case "done":
      return doneEvent(envelope(), op, found.fields);
    case "final":
      return failedEvent(envelope(), {
        name: "InvitationNotPending",
        reason: found.status,
        message: `the invitation is ${found.status}; it can no longer be ${op.done} (read before canceling)`,
        httpStatus: null,
        awsRequestId: null,
        retryable: false,
        invitationStatus: found.status,
      });
    case "unknown":
      // An invitation that does not exist was accepted by nobody: nothing to settle.
      if (found.error.name === "ResourceNotFoundException") return undefined;
      throw new CancelUnsettledError(job.id, `${found.error.name}: ${found.error.message}`);
  }
}

/** States of a job no run has taken yet. */
const NOT_STARTED = new Set(["waiting", "delayed", "prioritized"]);

/** The refusal of a cancel that found the request had ended otherwise: its outcome says how. */
function notCanceled(requestId: string, outcome: OutcomeEvent): RequestNotCancelableError {
  const state = outcome.type === "failed" ? "failed" : "completed";
  const how =
    outcome.type === "failed"
      ? `it failed: ${outcome.error.message}`
      : `AWS had already applied it (an earlier attempt's answer was lost): its outcome is ${outcome.type}`;
  return new RequestNotCancelableError(requestId, state, outcome, `request ${requestId} was not canceled: ${how}`);
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
