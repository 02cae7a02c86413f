import type { AcceptInvitationResult } from "../aws/invitation-api.js";
import { injectTraceContext } from "../observability/tracing.js";
import { outcomeEventId } from "../request-record/identity.js";
import type { AcceptJobData } from "../schemas/job.js";
import { OUTCOME_SCHEMA_VERSION, type AcceptedOutcome, type OutcomeError, type OutcomeEvent } from "../schemas/outcome.js";

/** The fields every outcome event has, whatever its type. */
export type OutcomeEnvelope = Omit<AcceptedOutcome, "type" | "connection" | "awsRequestId" | "alreadyAccepted" | "reason">;

/** The envelope of a request whose job data is valid. */
export function envelopeOf(requestId: string, data: AcceptJobData, attempts: number, completedAt: Date): OutcomeEnvelope {
  return {
    ...traceOfRun(),
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

/**
 * The envelope of a job whose data broke the schema: whatever well-typed fields it still has,
 * null for the rest, and no API call made.
 */
export function salvagedEnvelope(requestId: string, raw: unknown, completedAt: Date): OutcomeEnvelope {
  const d = (raw !== null && typeof raw === "object" ? raw : {}) as Record<string, unknown>;
  const r = (d.request !== null && typeof d.request === "object" ? d.request : {}) as Record<string, unknown>;
  const str = (v: unknown) => (typeof v === "string" ? v : null);
  const meta = r.metadata !== null && typeof r.metadata === "object" && !Array.isArray(r.metadata) ? r.metadata : null;
  const enqueuedAt = str(d.enqueuedAt);
  return {
    ...traceOfRun(),
    schemaVersion: OUTCOME_SCHEMA_VERSION,
    eventId: outcomeEventId(requestId),
    requestId,
    correlationId: str(r.correlationId),
    metadata: (meta as Record<string, never>) ?? null,
    catalog: str(r.catalog),
    identifier: str(r.identifier),
    clientToken: str(d.clientToken),
    attempts: 0,
    enqueuedAt: enqueuedAt && !Number.isNaN(Date.parse(enqueuedAt)) ? new Date(enqueuedAt).toISOString() : null,
    completedAt: completedAt.toISOString(),
  };
}

/** An accepted outcome; `result` null (with a `reason`) when the accepted invitation's connection could not be found. */
export function acceptedEvent(envelope: OutcomeEnvelope, result: AcceptInvitationResult | null, alreadyAccepted: boolean, reason?: string): OutcomeEvent {
  return {
    ...envelope,
    type: "accepted",
    connection: result?.connection ?? null,
    awsRequestId: result?.awsRequestId ?? null,
    alreadyAccepted,
    ...(reason !== undefined ? { reason } : {}),
  };
}

export function failedEvent(envelope: OutcomeEnvelope, error: OutcomeError): OutcomeEvent {
  return { ...envelope, type: "failed", error };
}

/** The error of an InvalidJob outcome: the job never reached the API. */
export function invalidJobError(message: string, details?: Array<Record<string, unknown>>): OutcomeError {
  return {
    name: "InvalidJob",
    reason: "JOB_SCHEMA_MISMATCH",
    message,
    httpStatus: null,
    awsRequestId: null,
    retryable: false,
    ...(details ? { details } : {}),
  };
}

/** The job run's trace context (when tracing is on), so consumers can continue the trace. */
function traceOfRun(): { trace?: Record<string, string> } {
  const trace = injectTraceContext();
  return Object.keys(trace).length > 0 ? { trace } : {};
}
