import type { ClassifiedError } from "../aws/classify-error.js";
import type { InvitationApi } from "../aws/invitation-api.js";
import { acceptJobDataSchema, unparseableJobExcerpt, type AcceptJobData } from "../contracts/job.js";
import type { OutcomeError, OutcomeEvent } from "../contracts/outcome.js";
import { actionOf } from "../contracts/request.js";
import { operationOf } from "../operations/index.js";
import { doneEvent, envelopeOf, failedEvent, invalidJobError, salvagedEnvelope } from "../outcomes/outcome-events.js";
import { RateLimitedError } from "../ratelimit/rate-limited-error.js";
import { jobDataFromRecord } from "../request-record/record.js";
import { formatFieldIssues, toFieldIssues } from "../schemas/issues.js";
import { canCarryOutcome } from "../schemas/request-id.js";
import type { Fence, JobStore, OutcomeStore } from "../store/request-store.js";
import { decide, toOutcomeError, type AttemptContext } from "./decide.js";
import { pacedLookups, reportToLimiter, type Pacing } from "./pacing.js";
import type { RunEnd } from "./run-end.js";
import { notPendingError, settleRun } from "./settle.js";

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
  /** The request store: the outcome (exists, publish under the run's fence) and the request's record. */
  store: RunStore;
  maxThrottleRequeues: number;
  /** The shared rate limit; without it calls are not paced (unit tests). */
  pacing?: Pacing;
  now?: () => Date;
}

/** What a run needs of the request store. */
export type RunStore = Pick<OutcomeStore, "exists" | "publish"> & Pick<JobStore, "recordOfJob" | "rewriteJobData">;

const STATE_CONFLICT = "INCOMPATIBLE_CONNECTION_INVITATION_STATE";

/**
 * One attempt at one request (its operation: src/operations). Guarantees: a request whose outcome
 * exists is never sent again; the ClientToken sent is the one stored in the job; a job whose data
 * breaks the schema is answered with an InvalidJob outcome and never reaches the API; a run that
 * lost its job's lock publishes nothing; a state conflict or an unanswered call is settled by
 * reading the invitation (settle.ts), so an acceptance (rejection) that happened is reported as
 * accepted (rejected); a redrive reads the invitation before it calls at all; a job whose id cannot
 * carry an outcome is never sent. How the run ends is a RunEnd (run-end.ts); an `outcome` end was
 * published by this run.
 */
export async function processJob(job: JobView, deps: ProcessDeps, signal?: AbortSignal): Promise<RunEnd> {
  if (!canCarryOutcome(job.id)) return { end: "nothing", why: "not-a-request" };
  const now = deps.now ?? (() => new Date());
  const fence: Fence | undefined = job.token ? { jobId: job.id, token: job.token } : undefined;
  if (await deps.store.exists(job.id)) return { end: "nothing", why: "already-published" };

  const parsed = acceptJobDataSchema.safeParse(job.data);
  const data = parsed.success ? parsed.data : await rebuiltFromRecord(job.id, deps.store);
  if (!data) {
    const issues = parsed.success ? [] : toFieldIssues(parsed.error);
    const unreadable = unparseableJobExcerpt(job.data);
    const error = unreadable
      ? invalidJobError(
          `the job's data or options in Redis were not JSON ` +
            `(data: ${JSON.stringify(unreadable.data)}, opts: ${JSON.stringify(unreadable.opts)})`,
        )
      : invalidJobError(
          `job data does not match the job schema: ${formatFieldIssues(issues)}`,
          issues.map((i) => ({ ...i })),
        );
    return publish(deps, failedEvent(salvagedEnvelope(job.id, job.data, now()), error), fence, undefined, signal);
  }

  const op = operationOf(actionOf(data.request));
  const envelope = () => envelopeOf(job.id, data, job.attemptsMade + data.throttleRequeues + 1, now());
  const fail = (error: OutcomeError) => failedEvent(envelope(), error);
  const finish = (end: RunEnd | undefined): Promise<RunEnd> | RunEnd =>
    end?.end === "outcome" ? publish(deps, end.outcome, fence, data.idempotencyKey, signal) : end!;
  const ctx: AttemptContext = {
    attemptsMade: job.attemptsMade,
    maxAttempts: job.maxAttempts,
    throttleRequeues: data.throttleRequeues,
    maxThrottleRequeues: deps.maxThrottleRequeues,
  };
  const invitation = { catalog: data.request.catalog, identifier: data.request.identifier };
  const callOptions = signal ? { signal } : undefined;
  const limitKey = deps.pacing?.keyFor(invitation.catalog) ?? "";
  // Every read of the invitation counts against the shared limit, as the call does.
  const lookups = pacedLookups(deps.api, deps.pacing, limitKey, signal);
  const settling = (env: typeof envelope) => ({
    api: lookups,
    op,
    invitation,
    ...(callOptions ? { options: callOptions } : {}),
    envelope: env,
  });

  // A redrive runs a request that failed before, maybe long ago: what is the invitation now? Only
  // a pending one is worth a call (with the redrive's own, new ClientToken).
  if (data.redriveOf !== undefined) {
    const uncalled = () => envelopeOf(job.id, data, job.attemptsMade + data.throttleRequeues, now());
    const read = await settleRun(settling(uncalled), {
      final: (status) => notPendingError(op, status, "read before redriving"),
      pending: () => undefined,
      unknown: (error) =>
        error.kind === "terminal"
          ? { end: "outcome", outcome: failedEvent(uncalled(), toOutcomeError(error, false)) }
          : decide(error, ctx, fail),
    });
    if (signal?.aborted) return { end: "nothing", why: "fenced" };
    if (read) return finish(read);
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
      if (err instanceof RateLimitedError) {
        return { end: "later", why: "limit", delayMs: err.retryInMs, reason: err.reason };
      }
      if (deps.pacing.stopping?.aborted && !signal?.aborted) {
        return { end: "later", why: "shutdown", delayMs: 0, reason: "shutdown" };
      }
      if (signal?.aborted) return { end: "nothing", why: "fenced" };
      throw err;
    }
  }

  let error: ClassifiedError;
  try {
    const request = { ...invitation, clientToken: data.clientToken, request: data.request };
    const fields = await op.call(deps.api, request, callOptions);
    await reportToLimiter(deps.pacing, limitKey, null);
    return finish({ end: "outcome", outcome: doneEvent(envelope(), op, fields) });
  } catch (err) {
    if (signal?.aborted) return { end: "nothing", why: "fenced" };
    error = op.classify(err, now().getTime());
    await reportToLimiter(deps.pacing, limitKey, error);
  }

  // A ConflictException, whatever its Reason (AWS documents none for "already accepted"): what
  // state is the invitation in? Only its status says whether the request succeeded.
  if (error.kind === "terminal" && error.name === "ConflictException") {
    const conflict = error;
    return finish(
      await settleRun(settling(envelope), {
        final: (status) => ({
          ...toOutcomeError(conflict, false),
          invitationStatus: status,
          message: `the invitation is ${status}; it can no longer be ${op.done} (${conflict.message})`,
        }),
        // Still pending: a state conflict may pass (retried like a transient error); any other
        // conflict (a ClientToken reused with another input…) will not.
        pending: (status) =>
          conflict.reason === STATE_CONFLICT
            ? decide({ ...conflict, kind: "transient" }, ctx, fail)
            : { end: "outcome", outcome: fail({ ...toOutcomeError(conflict, false), invitationStatus: status }) },
        unknown: (lookupError) =>
          lookupError.kind === "terminal"
            ? { end: "outcome", outcome: fail(toOutcomeError(conflict, false)) }
            : decide(lookupError, ctx, fail),
      }),
    );
  }

  const decided = decide(error, ctx, fail);
  // Out of attempts after calls that may have reached AWS: did one of them succeed after all?
  if (outOfAttempts(decided) && error.indeterminate) {
    const exhausted = decided.outcome.error;
    return finish(
      await settleRun(settling(envelope), {
        final: (status) => ({ ...exhausted, invitationStatus: status }),
        pending: () => decided,
        // The look-up was refused for the worker's own fault: the question is still open, and it
        // is not the request's failure. The job goes back (attempts as they are) and the work pauses.
        unknown: (lookupError) =>
          lookupError.kind === "fault" ? { end: "later", why: "fault", delayMs: 0, error: lookupError } : decided,
      }),
    );
  }
  return finish(decided);
}

/** A decision to fail the request because its attempts ran out. */
function outOfAttempts(end: RunEnd): end is { end: "outcome"; outcome: Extract<OutcomeEvent, { type: "failed" }> } {
  return end.end === "outcome" && end.outcome.type === "failed" && end.outcome.error.name === "RetriesExhausted";
}

/**
 * A job BullMQ failed without running processJob (it lost its worker more than MAX_STALLED_COUNT
 * times, e.g. a poison job that kills workers): it still gets exactly one outcome. The invitation
 * is read first, since one of the lost runs may have accepted it: found accepted (rejected) or in
 * a final status, that is the outcome. Found still pending, or unreadable for a passing reason,
 * nothing is published (`nothing`, `unsettled`): the last lost run's call may still be on its way
 * (a stalled worker's request is not over when BullMQ gives its job up), and a failure reported
 * now could be contradicted by AWS a moment later. The job stays failed without an outcome and its
 * record open; the sweeper reads again after its grace and finishes or revives it. If AWS refuses
 * the read for the worker's own fault, likewise (`later`, `fault`), and the worker pauses.
 */
export async function finishAbandonedJob(job: JobView, why: string, deps: ProcessDeps): Promise<RunEnd> {
  if (!canCarryOutcome(job.id)) return { end: "nothing", why: "not-a-request" };
  const now = deps.now ?? (() => new Date());
  if (await deps.store.exists(job.id)) return { end: "nothing", why: "already-published" };
  const parsed = acceptJobDataSchema.safeParse(job.data);
  const data = parsed.success ? parsed.data : await rebuiltFromRecord(job.id, deps.store);
  if (!data) {
    const event = failedEvent(salvagedEnvelope(job.id, job.data, now()), invalidJobError(why));
    return publish(deps, event, undefined, undefined, undefined);
  }
  const op = operationOf(actionOf(data.request));
  const envelope = () => envelopeOf(job.id, data, job.attemptsMade + data.throttleRequeues, now());
  const lost = (invitationStatus?: string): OutcomeError => ({
    name: "RetriesExhausted",
    reason: "WorkerLost",
    message: `BullMQ gave the job up: ${why}`,
    httpStatus: null,
    awsRequestId: null,
    retryable: true,
    ...(invitationStatus ? { invitationStatus } : {}),
  });
  const key = deps.pacing?.keyFor(data.request.catalog) ?? "";
  const invitation = { catalog: data.request.catalog, identifier: data.request.identifier };
  const end = await settleRun(
    { api: pacedLookups(deps.api, deps.pacing, key), op, invitation, envelope },
    {
      final: (status) => lost(status),
      pending: () => ({ end: "nothing", why: "unsettled" }),
      unknown: (error) =>
        error.kind === "fault"
          ? { end: "later", why: "fault", delayMs: 0, error }
          : error.kind === "terminal"
            ? { end: "outcome", outcome: failedEvent(envelope(), lost()) }
            : { end: "nothing", why: "unsettled" },
    },
  );
  return end?.end === "outcome" ? publish(deps, end.outcome, undefined, data.idempotencyKey, undefined) : end!;
}

/**
 * A job whose data was lost or broken (written by hand, corrupted, or repaired because BullMQ could
 * not read it) is rebuilt from its request's record, which holds the whole payload: the job gets
 * its data back and the request goes on as if nothing had happened, to its one real outcome. Only
 * a job without an open record is beyond repair (an InvalidJob outcome).
 */
async function rebuiltFromRecord(jobId: string, store: RunStore): Promise<AcceptJobData | undefined> {
  const record = await store.recordOfJob(jobId);
  if (!record) return undefined;
  const data = jobDataFromRecord(record);
  await store.rewriteJobData(jobId, data);
  return data;
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

/** Publishes the run's outcome under its fence: what became of it, as the run's end. */
async function publish(
  deps: ProcessDeps,
  outcome: OutcomeEvent,
  fence: Fence | undefined,
  idempotencyKey: string | undefined,
  signal: AbortSignal | undefined,
): Promise<RunEnd> {
  if (signal?.aborted) return { end: "nothing", why: "fenced", outcome };
  const res = await deps.store.publish(outcome, {
    ...(fence ? { fence } : {}),
    ...(idempotencyKey ? { idempotencyKey } : {}),
  });
  if (res === "fenced") return { end: "nothing", why: "fenced", outcome };
  if (res === "already-published") return { end: "nothing", why: "already-published" };
  return { end: "outcome", outcome };
}
