import type { InvitationApi, AcceptInvitationResult } from "../aws/invitation-api.js";
import { classifyError, type ClassifiedError } from "../aws/classify-error.js";
import { outcomeEventId } from "../queues/identity.js";
import { acceptJobDataSchema, type AcceptJobData } from "../schemas/job.js";
import { toFieldIssues } from "../schemas/issues.js";
import { OUTCOME_SCHEMA_VERSION, type OutcomeEvent, type OutcomeError } from "../schemas/outcome.js";
import type { Fence, OutcomeStore } from "../outcomes/outcome-store.js";
import { decide, toOutcomeError, type AttemptContext } from "./decide.js";
import { reconcile } from "./reconcile.js";
import { pacedLookups, reportToLimiter, type Pacing } from "./pacing.js";
import { RateLimitedError } from "../ratelimit/rate-limited-error.js";
import { injectTraceContext } from "../observability/tracing.js";

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

export type ProcessResult =
  | { action: "published"; outcome: OutcomeEvent }
  /** An outcome for this request already exists (a redelivery): nothing called, nothing published. */
  | { action: "already-published" }
  /** This run lost the job (lock gone or signal aborted): it published nothing. */
  | { action: "fenced"; outcome?: OutcomeEvent }
  | { action: "retry"; error: ClassifiedError; data: AcceptJobData }
  /** AWS throttled: put the job back after delayMs without using an attempt. */
  | { action: "rate-limit"; delayMs: number; error: ClassifiedError; data: AcceptJobData }
  /** No call made: the shared limit asked to wait longer than RATE_LIMIT_MAX_WAIT_MS, or the retry budget is spent. */
  | { action: "delay"; delayMs: number; reason: string; data: AcceptJobData };

const STATE_CONFLICT = "INCOMPATIBLE_CONNECTION_INVITATION_STATE";

/**
 * One attempt at one request. Guarantees: a request whose outcome exists is never sent again;
 * the ClientToken sent is the one stored in the job; a job whose data breaks the schema is
 * answered with an InvalidJob outcome and never reaches the API; a run that lost its job's lock
 * publishes nothing; a state conflict or an unanswered call is reconciled by looking the
 * invitation up, so an acceptance that happened is reported as accepted.
 */
export async function processJob(job: JobView, deps: ProcessDeps, signal?: AbortSignal): Promise<ProcessResult> {
  const now = deps.now ?? (() => new Date());
  const fence: Fence | undefined = job.token ? { jobId: job.id, token: job.token } : undefined;
  if (await deps.outcomes.exists(job.id)) return { action: "already-published" };

  const parsed = acceptJobDataSchema.safeParse(job.data);
  if (!parsed.success) {
    const issues = toFieldIssues(parsed.error);
    const error: OutcomeError = {
      name: "InvalidJob",
      reason: "JOB_SCHEMA_MISMATCH",
      message: `job data does not match the job schema: ${issues.map((i) => `${i.field}: ${i.rule}`).join("; ")}`,
      httpStatus: null,
      awsRequestId: null,
      retryable: false,
      details: issues.map((i) => ({ ...i })),
    };
    return publish(deps, failedEvent(job, salvage(job.data), 0, now(), error), fence, undefined, signal);
  }

  const data = parsed.data;
  await deps.outcomes.markInProgress(data.idempotencyKey, job.id);
  const attempts = job.attemptsMade + data.throttleRequeues + 1;
  const base = () => envelope(job.id, data, attempts, now());
  const accepted = (r: AcceptInvitationResult, alreadyAccepted: boolean): OutcomeEvent => ({
    ...base(),
    type: "accepted",
    connection: r.connection,
    awsRequestId: r.awsRequestId,
    alreadyAccepted,
  });
  const failed = (error: OutcomeError): OutcomeEvent => ({ ...base(), type: "failed", error });
  const send = (o: OutcomeEvent) => publish(deps, o, fence, data.idempotencyKey, signal);
  const ctx: AttemptContext = {
    attemptsMade: job.attemptsMade,
    maxAttempts: job.maxAttempts,
    throttleRequeues: data.throttleRequeues,
    maxThrottleRequeues: deps.maxThrottleRequeues,
  };
  const { catalog, identifier } = data.request;
  const callOptions = signal ? { signal } : undefined;
  const limitKey = deps.pacing?.keyFor(catalog) ?? "";
  const lookups = pacedLookups(deps.api, deps.pacing, limitKey, signal);

  if (deps.pacing) {
    try {
      // Retries after 5xx/network errors count against the retry budget; re-attempts after a
      // throttle do not (the lowered shared rate already paces them).
      const waitSignal = anySignal(signal, deps.pacing.stopping);
      await deps.pacing.limiter.acquire(limitKey, { retry: job.attemptsMade > 0, maxWaitMs: deps.pacing.maxWaitMs, ...(waitSignal ? { signal: waitSignal } : {}) });
    } catch (err) {
      if (err instanceof RateLimitedError) return { action: "delay", delayMs: err.retryInMs, reason: err.reason, data };
      if (deps.pacing.stopping?.aborted && !signal?.aborted) return { action: "delay", delayMs: 0, reason: "shutdown", data };
      if (signal?.aborted) return { action: "fenced" };
      throw err;
    }
  }

  let error: ClassifiedError;
  try {
    const result = await deps.api.acceptInvitation({ catalog, identifier, clientToken: data.clientToken }, callOptions);
    await reportToLimiter(deps.pacing, limitKey, null);
    return send(accepted(result, false));
  } catch (err) {
    if (signal?.aborted) return { action: "fenced" };
    error = classifyError(err, now().getTime());
    await reportToLimiter(deps.pacing, limitKey, error);
  }

  // ConflictException / INCOMPATIBLE_CONNECTION_INVITATION_STATE: what state is it in?
  if (error.kind === "terminal" && error.name === "ConflictException" && error.reason === STATE_CONFLICT) {
    const found = await reconcile(lookups, catalog, identifier, callOptions);
    switch (found.found) {
      case "accepted":
        return send(accepted(found.result, true));
      case "final":
        return send(
          failed({
            ...toOutcomeError(error, false),
            invitationStatus: found.status,
            message: `the invitation is ${found.status}; it can no longer be accepted (${error.message})`,
          }),
        );
      case "pending":
        return toAction(decide({ ...error, kind: "transient" }, ctx), data, send, failed);
      case "error":
        if (found.error.kind === "terminal") return send(failed(toOutcomeError(error, false)));
        return toAction(decide(found.error, ctx), data, send, failed);
    }
  }

  const decision = decide(error, ctx);
  // Out of attempts after calls that may have reached AWS: did one of them succeed after all?
  if (decision.action === "fail" && decision.error.name === "RetriesExhausted" && error.indeterminate) {
    const found = await reconcile(lookups, catalog, identifier, callOptions);
    if (found.found === "accepted") return send(accepted(found.result, true));
    if (found.found === "final") return send(failed({ ...decision.error, invitationStatus: found.status }));
  }
  return toAction(decision, data, send, failed);
}

/**
 * A job BullMQ failed without running processJob (it lost its worker more than MAX_STALLED_COUNT
 * times, e.g. a poison job that kills workers): it still gets exactly one outcome. The invitation
 * is looked up first, since one of the lost runs may have accepted it.
 */
export async function finishAbandonedJob(job: JobView, why: string, deps: ProcessDeps): Promise<ProcessResult> {
  const now = deps.now ?? (() => new Date());
  if (await deps.outcomes.exists(job.id)) return { action: "already-published" };
  const parsed = acceptJobDataSchema.safeParse(job.data);
  if (!parsed.success) {
    const error: OutcomeError = { name: "InvalidJob", reason: "JOB_SCHEMA_MISMATCH", message: why, httpStatus: null, awsRequestId: null, retryable: false };
    return publish(deps, failedEvent(job, salvage(job.data), 0, now(), error), undefined, undefined, undefined);
  }
  const data = parsed.data;
  const base = envelope(job.id, data, job.attemptsMade + data.throttleRequeues, now());
  const send = (o: OutcomeEvent) => publish(deps, o, undefined, data.idempotencyKey, undefined);
  const key = deps.pacing?.keyFor(data.request.catalog) ?? "";
  const found = await reconcile(pacedLookups(deps.api, deps.pacing, key), data.request.catalog, data.request.identifier);
  if (found.found === "accepted") {
    return send({ ...base, type: "accepted", connection: found.result.connection, awsRequestId: found.result.awsRequestId, alreadyAccepted: true });
  }
  return send({
    ...base,
    type: "failed",
    error: {
      name: "RetriesExhausted",
      reason: "WorkerLost",
      message: `BullMQ gave the job up: ${why}`,
      httpStatus: null,
      awsRequestId: null,
      retryable: true,
      ...(found.found === "final" ? { invitationStatus: found.status } : {}),
    },
  });
}

function anySignal(...signals: Array<AbortSignal | undefined>): AbortSignal | undefined {
  const present = signals.filter((s): s is AbortSignal => s !== undefined);
  return present.length <= 1 ? present[0] : AbortSignal.any(present);
}

function toAction(
  decision: ReturnType<typeof decide>,
  data: AcceptJobData,
  send: (o: OutcomeEvent) => Promise<ProcessResult>,
  failed: (e: OutcomeError) => OutcomeEvent,
): Promise<ProcessResult> | ProcessResult {
  switch (decision.action) {
    case "fail":
      return send(failed(decision.error));
    case "retry":
      return { action: "retry", error: decision.error, data };
    case "rate-limit":
      return { action: "rate-limit", delayMs: decision.delayMs, error: decision.error, data };
  }
}

async function publish(
  deps: ProcessDeps,
  outcome: OutcomeEvent,
  fence: Fence | undefined,
  idempotencyKey: string | undefined,
  signal: AbortSignal | undefined,
): Promise<ProcessResult> {
  if (signal?.aborted) return { action: "fenced", outcome };
  const res = await deps.outcomes.publish(outcome, { ...(fence ? { fence } : {}), ...(idempotencyKey ? { idempotencyKey } : {}) });
  if (res === "fenced") return { action: "fenced", outcome };
  if (res === "already-published") return { action: "already-published" };
  return { action: "published", outcome };
}

function envelope(requestId: string, data: AcceptJobData, attempts: number, completedAt: Date) {
  // The job run's trace context (when tracing is on), so consumers can continue the trace.
  const trace = injectTraceContext();
  return {
    ...(Object.keys(trace).length > 0 ? { trace } : {}),
    schemaVersion: OUTCOME_SCHEMA_VERSION,
    eventId: outcomeEventId(requestId),
    requestId,
    correlationId: data.request.correlationId,
    metadata: data.request.metadata ?? null,
    catalog: data.request.catalog,
    identifier: data.request.identifier,
    clientToken: data.clientToken,
    attempts,
    enqueuedAt: data.enqueuedAt,
    completedAt: completedAt.toISOString(),
  } as const;
}

/** For an invalid job: keep whatever well-typed envelope fields it still has, null the rest. */
function salvage(raw: unknown) {
  const d = (raw !== null && typeof raw === "object" ? raw : {}) as Record<string, unknown>;
  const r = (d.request !== null && typeof d.request === "object" ? d.request : {}) as Record<string, unknown>;
  const str = (v: unknown) => (typeof v === "string" ? v : null);
  const meta = r.metadata !== null && typeof r.metadata === "object" && !Array.isArray(r.metadata) ? r.metadata : null;
  const enqueuedAt = str(d.enqueuedAt);
  return {
    correlationId: str(r.correlationId),
    metadata: (meta as Record<string, never>) ?? null,
    catalog: str(r.catalog),
    identifier: str(r.identifier),
    clientToken: str(d.clientToken),
    enqueuedAt: enqueuedAt && !Number.isNaN(Date.parse(enqueuedAt)) ? new Date(enqueuedAt).toISOString() : null,
  };
}

function failedEvent(job: JobView, fields: ReturnType<typeof salvage>, attempts: number, completedAt: Date, error: OutcomeError): OutcomeEvent {
  return {
    schemaVersion: OUTCOME_SCHEMA_VERSION,
    eventId: outcomeEventId(job.id),
    requestId: job.id,
    ...fields,
    attempts,
    completedAt: completedAt.toISOString(),
    type: "failed",
    error,
  };
}
