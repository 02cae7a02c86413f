import type { InvitationApi } from "../aws/invitation-api.js";
import { classifyError, type ClassifiedError } from "../aws/classify-error.js";
import { outcomeEventId } from "../queues/identity.js";
import { acceptJobDataSchema, type AcceptJobData } from "../schemas/job.js";
import { toFieldIssues } from "../schemas/issues.js";
import { OUTCOME_SCHEMA_VERSION, type OutcomeEvent, type OutcomeError } from "../schemas/outcome.js";
import type { OutcomeStore } from "../outcomes/outcome-store.js";
import { decide } from "./decide.js";

/** The parts of a BullMQ job the core needs; the worker shell fills it in. */
export interface JobView {
  id: string;
  data: unknown;
  attemptsMade: number;
  maxAttempts: number;
}

export interface ProcessDeps {
  api: InvitationApi;
  outcomes: OutcomeStore;
  maxThrottleRequeues: number;
  throttlePauseMs: number;
  now?: () => Date;
}

export type ProcessResult =
  | { action: "published"; outcome: OutcomeEvent }
  /** An outcome for this request already exists (a redelivery): nothing called, nothing published. */
  | { action: "already-published" }
  | { action: "retry"; error: ClassifiedError; data: AcceptJobData }
  | { action: "rate-limit"; delayMs: number; error: ClassifiedError; data: AcceptJobData };

/**
 * One attempt at one request. Guarantees: a request whose outcome exists is never sent again;
 * the ClientToken sent is the one stored in the job; a job whose data breaks the schema is
 * answered with an InvalidJob outcome and never reaches the API.
 */
export async function processJob(job: JobView, deps: ProcessDeps, signal?: AbortSignal): Promise<ProcessResult> {
  const now = deps.now ?? (() => new Date());
  if (await deps.outcomes.exists(job.id)) return { action: "already-published" };

  const parsed = acceptJobDataSchema.safeParse(job.data);
  if (!parsed.success) {
    const error: OutcomeError = {
      name: "InvalidJob",
      reason: "JOB_SCHEMA_MISMATCH",
      message: `job data does not match the job schema: ${toFieldIssues(parsed.error).map((i) => `${i.field}: ${i.rule}`).join("; ")}`,
      httpStatus: null,
      awsRequestId: null,
      retryable: false,
      details: toFieldIssues(parsed.error).map((i) => ({ ...i })),
    };
    return publish(deps, failedEvent(job, salvage(job.data), 0, now(), error));
  }

  const data = parsed.data;
  const attempts = job.attemptsMade + data.throttleRequeues + 1;
  try {
    const result = await deps.api.acceptInvitation(
      { catalog: data.request.catalog, identifier: data.request.identifier, clientToken: data.clientToken },
      signal ? { signal } : undefined,
    );
    return publish(deps, {
      ...envelope(job.id, data, attempts, now()),
      type: "accepted",
      connection: result.connection,
      awsRequestId: result.awsRequestId,
    });
  } catch (err) {
    const classified = classifyError(err, now().getTime());
    const decision = decide(classified, {
      attemptsMade: job.attemptsMade,
      maxAttempts: job.maxAttempts,
      throttleRequeues: data.throttleRequeues,
      maxThrottleRequeues: deps.maxThrottleRequeues,
      throttlePauseMs: deps.throttlePauseMs,
    });
    switch (decision.action) {
      case "fail":
        return publish(deps, { ...envelope(job.id, data, attempts, now()), type: "failed", error: decision.error });
      case "retry":
        return { action: "retry", error: decision.error, data };
      case "rate-limit":
        return { action: "rate-limit", delayMs: decision.delayMs, error: decision.error, data };
    }
  }
}

async function publish(deps: ProcessDeps, outcome: OutcomeEvent): Promise<ProcessResult> {
  await deps.outcomes.publish(outcome);
  return { action: "published", outcome };
}

function envelope(requestId: string, data: AcceptJobData, attempts: number, completedAt: Date): Omit<OutcomeEvent, "type" | "error" | "connection" | "awsRequestId"> {
  return {
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
  };
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
