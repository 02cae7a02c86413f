import type { InvitationApi } from "../aws/invitation-api.js";
import { classifyError, type ClassifiedError } from "../aws/classify-error.js";
import { acceptJobDataSchema, unparseableJobExcerpt } from "../schemas/job.js";
import { formatFieldIssues, toFieldIssues } from "../schemas/issues.js";
import type { OutcomeEvent, OutcomeError } from "../schemas/outcome.js";
import type { Fence, OutcomeStore } from "../store/request-store.js";
import { RateLimitedError } from "../ratelimit/rate-limited-error.js";
import { actionOf } from "../schemas/request.js";
import { canCarryOutcome } from "../schemas/request-id.js";
import { decide, toOutcomeError, type AttemptContext, type Decision } from "./decide.js";
import { reconcile } from "./reconcile.js";
import { pacedLookups, reportToLimiter, type Pacing } from "./pacing.js";
import {
  alreadyDoneEvent,
  envelopeOf,
  failedEvent,
  invalidJobError,
  salvagedEnvelope,
} from "../outcomes/outcome-events.js";
import { callAction, DONE, notPendingError } from "./invitation-action.js";

/** The parts of a BullMQ job the core needs; the worker shell fills it in. */
export interface JobView {
  id: string;
  data: unknown;
  attemptsMade: number;
  maxAttempts: number;
  /** BullMQ's lock token for this run: outcomes are published only while it still holds. */
  token?: string;
}

export interface ProcessDeps {
  api: InvitationApi;
  outcomes: OutcomeStore;
  maxThrottleRequeues: number;
  /** The shared rate limit; without it calls are not paced (unit tests). */
  pacing?: Pacing;
  now?: () => Date;
}

/**
 * What a run ended with: a Decision that needs no outcome (retry, rate-limit), passed through as
 * decide() made it, or what became of the outcome. The worker shell turns each into a BullMQ signal.
 */
export type ProcessResult =
  | Exclude<Decision, { action: "fail" }>
  | { action: "published"; outcome: OutcomeEvent }
  /** An outcome for this request already exists (a redelivery): nothing called, nothing published. */
  | { action: "already-published" }
  /** This run lost the job (lock gone or signal aborted): it published nothing. */
  | { action: "fenced"; outcome?: OutcomeEvent }
  /** No call made: the shared limit asked to wait longer than RATE_LIMIT_MAX_WAIT_MS, the retry budget is spent, or
   * the worker is stopping. */
  | { action: "delay"; delayMs: number; reason: string }
  /**
   * The job's id cannot carry an outcome (schemas/request-id.ts canCarryOutcome: one added
   * without a jobId gets a number from BullMQ, which it refuses as the outcome's id): no producer
   * of ours made it. Nothing called, nothing published.
   */
  | { action: "not-a-request" };

const STATE_CONFLICT = "INCOMPATIBLE_CONNECTION_INVITATION_STATE";

/**
 * One attempt at one request (accept or reject, see invitation-action.ts). Guarantees: a request
 * whose outcome exists is never sent again; the ClientToken sent is the one stored in the job; a
 * job whose data breaks the schema is answered with an InvalidJob outcome and never reaches the
 * API; a run that lost its job's lock publishes nothing; a state conflict or an unanswered call is
 * reconciled by looking the invitation up, so an acceptance (rejection) that happened is reported
 * as accepted (rejected); a redrive reads the invitation before it calls at all; a job whose id
 * cannot carry an outcome is never sent.
 */
export async function processJob(job: JobView, deps: ProcessDeps, signal?: AbortSignal): Promise<ProcessResult> {
  if (!canCarryOutcome(job.id)) return { action: "not-a-request" };
  const now = deps.now ?? (() => new Date());
  const fence: Fence | undefined = job.token ? { jobId: job.id, token: job.token } : undefined;
  if (await deps.outcomes.exists(job.id)) return { action: "already-published" };

  const parsed = acceptJobDataSchema.safeParse(job.data);
  if (!parsed.success) {
    const issues = toFieldIssues(parsed.error);
    const unreadable = unparseableJobExcerpt(job.data);
    const error = unreadable
      ? invalidJobError(
          `the job's data or options in Redis were not JSON (data: ` +
            `${JSON.stringify(unreadable.data)}, opts: ${JSON.stringify(unreadable.opts)})`,
        )
      : invalidJobError(
          `job data does not match the job schema: ${formatFieldIssues(issues)}`,
          issues.map((i) => ({ ...i })),
        );
    return publish(deps, failedEvent(salvagedEnvelope(job.id, job.data, now()), error), fence, undefined, signal);
  }

  const data = parsed.data;
  const envelope = () => envelopeOf(job.id, data, job.attemptsMade + data.throttleRequeues + 1, now());
  const send = (o: OutcomeEvent) => publish(deps, o, fence, data.idempotencyKey, signal);
  const fail = (error: OutcomeError) => send(failedEvent(envelope(), error));
  const act = (decision: Decision) => (decision.action === "fail" ? fail(decision.error) : decision);
  const ctx: AttemptContext = {
    attemptsMade: job.attemptsMade,
    maxAttempts: job.maxAttempts,
    throttleRequeues: data.throttleRequeues,
    maxThrottleRequeues: deps.maxThrottleRequeues,
  };
  const { catalog, identifier } = data.request;
  const action = actionOf(data.request);
  const callOptions = signal ? { signal } : undefined;
  const limitKey = deps.pacing?.keyFor(catalog) ?? "";
  const lookups = pacedLookups(deps.api, deps.pacing, limitKey, signal);

  // A redrive runs a request that failed before, maybe long ago: what is the invitation now? Only
  // a PENDING one is worth a call (with the redrive's own, new ClientToken).
  if (data.redriveOf !== undefined) {
    const found = await reconcile(lookups, catalog, identifier, callOptions, action);
    if (signal?.aborted) return { action: "fenced" };
    const uncalled = () => envelopeOf(job.id, data, job.attemptsMade + data.throttleRequeues, now());
    switch (found.found) {
      case "accepted":
      case "rejected":
        return send(alreadyDoneEvent(uncalled(), found));
      case "final":
        return send(failedEvent(uncalled(), notPendingError(action, found.status)));
      case "error":
        if (found.error.kind === "terminal") return send(failedEvent(uncalled(), toOutcomeError(found.error, false)));
        return act(decide(found.error, ctx));
      case "pending":
        break;
    }
  }

  if (deps.pacing) {
    try {
      // Retries after 5xx/network errors count against the retry budget; re-attempts after a
      // throttle do not (the lowered shared rate already paces them).
      const wait = eitherSignal(signal, deps.pacing.stopping);
      try {
        await deps.pacing.limiter.acquire(limitKey, {
          retry: job.attemptsMade > 0,
          maxWaitMs: deps.pacing.maxWaitMs,
          ...(wait.signal ? { signal: wait.signal } : {}),
        });
      } finally {
        wait.dispose();
      }
    } catch (err) {
      if (err instanceof RateLimitedError) return { action: "delay", delayMs: err.retryInMs, reason: err.reason };
      if (deps.pacing.stopping?.aborted && !signal?.aborted) return { action: "delay", delayMs: 0, reason: "shutdown" };
      if (signal?.aborted) return { action: "fenced" };
      throw err;
    }
  }

  let error: ClassifiedError;
  try {
    const succeeded = await callAction(deps.api, data, callOptions);
    await reportToLimiter(deps.pacing, limitKey, null);
    return send(succeeded(envelope()));
  } catch (err) {
    if (signal?.aborted) return { action: "fenced" };
    error = classifyError(err, now().getTime());
    await reportToLimiter(deps.pacing, limitKey, error);
  }

  // A ConflictException, whatever its Reason (AWS documents none for "already accepted"): what
  // state is the invitation in? Only its status says whether the request succeeded.
  if (error.kind === "terminal" && error.name === "ConflictException") {
    const found = await reconcile(lookups, catalog, identifier, callOptions, action);
    switch (found.found) {
      case "accepted":
      case "rejected":
        return send(alreadyDoneEvent(envelope(), found));
      case "final":
        return fail({
          ...toOutcomeError(error, false),
          invitationStatus: found.status,
          message: `the invitation is ${found.status}; it can no longer be ${DONE[action]} (${error.message})`,
        });
      case "pending":
        // Still PENDING: a state conflict may pass (retried like a transient error); any other
        // conflict (a ClientToken reused with another input…) will not.
        return error.reason === STATE_CONFLICT
          ? act(decide({ ...error, kind: "transient" }, ctx))
          : fail({ ...toOutcomeError(error, false), invitationStatus: found.status });
      case "error":
        return found.error.kind === "terminal" ? fail(toOutcomeError(error, false)) : act(decide(found.error, ctx));
    }
  }

  const decision = decide(error, ctx);
  // Out of attempts after calls that may have reached AWS: did one of them succeed after all?
  if (decision.action === "fail" && decision.error.name === "RetriesExhausted" && error.indeterminate) {
    const found = await reconcile(lookups, catalog, identifier, callOptions, action);
    if (found.found === "accepted" || found.found === "rejected") return send(alreadyDoneEvent(envelope(), found));
    if (found.found === "final") return fail({ ...decision.error, invitationStatus: found.status });
    // The look-up was refused for the worker's own fault: the question is still open, and it is
    // not the request's failure. The job goes back (attempts as they are) and the work pauses.
    if (found.found === "error" && found.error.kind === "fault") return { action: "pause", error: found.error };
  }
  return act(decision);
}

/**
 * A job BullMQ failed without running processJob (it lost its worker more than MAX_STALLED_COUNT
 * times, e.g. a poison job that kills workers): it still gets exactly one outcome. The invitation
 * is looked up first, since one of the lost runs may have accepted it. If AWS refuses the look-up
 * for the worker's own fault, nothing is published (`pause`): the job stays failed without an
 * outcome and its record open, which the sweeper finishes (or revives) once the fault is over.
 */
export async function finishAbandonedJob(job: JobView, why: string, deps: ProcessDeps): Promise<ProcessResult> {
  if (!canCarryOutcome(job.id)) return { action: "not-a-request" };
  const now = deps.now ?? (() => new Date());
  if (await deps.outcomes.exists(job.id)) return { action: "already-published" };
  const parsed = acceptJobDataSchema.safeParse(job.data);
  if (!parsed.success)
    return publish(
      deps,
      failedEvent(salvagedEnvelope(job.id, job.data, now()), invalidJobError(why)),
      undefined,
      undefined,
      undefined,
    );
  const data = parsed.data;
  const envelope = envelopeOf(job.id, data, job.attemptsMade + data.throttleRequeues, now());
  const send = (o: OutcomeEvent) => publish(deps, o, undefined, data.idempotencyKey, undefined);
  const key = deps.pacing?.keyFor(data.request.catalog) ?? "";
  const found = await reconcile(
    pacedLookups(deps.api, deps.pacing, key),
    data.request.catalog,
    data.request.identifier,
    undefined,
    actionOf(data.request),
  );
  if (found.found === "accepted" || found.found === "rejected") return send(alreadyDoneEvent(envelope, found));
  if (found.found === "error" && found.error.kind === "fault") return { action: "pause", error: found.error };
  return send(
    failedEvent(envelope, {
      name: "RetriesExhausted",
      reason: "WorkerLost",
      message: `BullMQ gave the job up: ${why}`,
      httpStatus: null,
      awsRequestId: null,
      retryable: true,
      ...(found.found === "final" ? { invitationStatus: found.status } : {}),
    }),
  );
}

/**
 * A signal aborted when either is, and a dispose that unhooks it. (AbortSignal.any would do, at
 * ~10 µs of CPU per request for a composite signal tracked through weak references.)
 */
function eitherSignal(
  a: AbortSignal | undefined,
  b: AbortSignal | undefined,
): { signal: AbortSignal | undefined; dispose(): void } {
  if (!a || !b) return { signal: a ?? b, dispose: () => undefined };
  const controller = new AbortController();
  const onA = () => controller.abort(a.reason);
  const onB = () => controller.abort(b.reason);
  if (a.aborted) onA();
  else if (b.aborted) onB();
  else {
    a.addEventListener("abort", onA, { once: true });
    b.addEventListener("abort", onB, { once: true });
  }
  return {
    signal: controller.signal,
    dispose: () => {
      a.removeEventListener("abort", onA);
      b.removeEventListener("abort", onB);
    },
  };
}

async function publish(
  deps: ProcessDeps,
  outcome: OutcomeEvent,
  fence: Fence | undefined,
  idempotencyKey: string | undefined,
  signal: AbortSignal | undefined,
): Promise<ProcessResult> {
  if (signal?.aborted) return { action: "fenced", outcome };
  const res = await deps.outcomes.publish(outcome, {
    ...(fence ? { fence } : {}),
    ...(idempotencyKey ? { idempotencyKey } : {}),
  });
  if (res === "fenced") return { action: "fenced", outcome };
  if (res === "already-published") return { action: "already-published" };
  return { action: "published", outcome };
}
