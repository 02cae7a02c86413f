import type { AcceptInvitationResult, RejectInvitationResult } from "../aws/invitation-api.js";
import { injectTraceContext } from "../observability/tracing.js";
import { outcomeEventId } from "../request-record/identity.js";
import type { AcceptJobData } from "../schemas/job.js";
import {
  OUTCOME_SCHEMA_VERSION,
  type OutcomeEnvelope,
  type OutcomeError,
  type OutcomeEvent,
} from "../schemas/outcome.js";
import { actionOf, metadataIssues, REQUEST_ACTIONS } from "../schemas/request.js";

/** The envelope of a request whose job data is valid. */
export function envelopeOf(
  requestId: string,
  data: AcceptJobData,
  attempts: number,
  completedAt: Date,
): OutcomeEnvelope {
  return {
    ...traceOfRun(),
    schemaVersion: OUTCOME_SCHEMA_VERSION,
    eventId: outcomeEventId(requestId),
    requestId,
    action: actionOf(data.request),
    ...(data.redriveOf !== undefined ? { redriveOf: data.redriveOf } : {}),
    ...(data.request.reason !== undefined ? { rejectReason: data.request.reason } : {}),
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
  // The job's metadata only when it keeps the request's rules (an object of JSON values, 4 KiB, 32
  // levels: metadataIssues, which walks without recursion): a broken job's metadata may be what
  // broke it, and the event must stay within the contract and readable by every consumer.
  const meta =
    r.metadata !== null &&
    typeof r.metadata === "object" &&
    !Array.isArray(r.metadata) &&
    metadataIssues(r.metadata).length === 0
      ? r.metadata
      : null;
  const enqueuedAt = str(d.enqueuedAt);
  // No action field was an accept; one we cannot read is unknown.
  const action = r.action === undefined ? "accept" : (REQUEST_ACTIONS.find((a) => a === r.action) ?? null);
  return {
    ...traceOfRun(),
    schemaVersion: OUTCOME_SCHEMA_VERSION,
    eventId: outcomeEventId(requestId),
    requestId,
    action,
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

/** An accepted outcome; `result` null (with a `reason`) when the accepted invitation's connection could not be found.
 * */
export function acceptedEvent(
  envelope: OutcomeEnvelope,
  result: AcceptInvitationResult | null,
  alreadyAccepted: boolean,
  reason?: string,
): OutcomeEvent {
  return {
    ...envelope,
    type: "accepted",
    connection: result?.connection ?? null,
    awsRequestId: result?.awsRequestId ?? null,
    alreadyAccepted,
    ...(reason !== undefined ? { reason } : {}),
  };
}

/** A rejected outcome: the invitation record of the Reject (or of the look-up that found it REJECTED). */
export function rejectedEvent(
  envelope: OutcomeEnvelope,
  result: RejectInvitationResult,
  alreadyRejected: boolean,
): OutcomeEvent {
  return {
    ...envelope,
    type: "rejected",
    invitation: result.invitation,
    awsRequestId: result.awsRequestId,
    alreadyRejected,
  };
}

export function failedEvent(envelope: OutcomeEnvelope, error: OutcomeError): OutcomeEvent {
  return { ...envelope, type: "failed", error };
}

/** A canceled outcome: the request was removed before it started; nothing was sent to AWS for it. */
export function canceledEvent(envelope: OutcomeEnvelope, reason: string | null): OutcomeEvent {
  return { ...envelope, type: "canceled", reason };
}

/**
 * The outcome of an invitation that a look-up found already in the status the request wanted:
 * `accepted` with alreadyAccepted, or `rejected` with alreadyRejected.
 */
export function alreadyDoneEvent(
  envelope: OutcomeEnvelope,
  found:
    | { found: "accepted"; result: AcceptInvitationResult | null; note?: string }
    | { found: "rejected"; result: RejectInvitationResult },
): OutcomeEvent {
  return found.found === "accepted"
    ? acceptedEvent(envelope, found.result, true, found.note)
    : rejectedEvent(envelope, found.result, true);
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
