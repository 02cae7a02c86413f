import type { AcceptJobData } from "../contracts/job.js";
import {
  OUTCOME_SCHEMA_VERSION,
  type OutcomeEnvelope,
  type OutcomeError,
  type OutcomeEvent,
} from "../contracts/outcome.js";
import { actionOf, REQUEST_ACTIONS } from "../contracts/request.js";
import { injectTraceContext } from "../observability/tracing.js";
import type { InvitationOperation, OutcomeFields } from "../operations/operation.js";
import { operationOf } from "../operations/index.js";
import { outcomeEventId } from "../request-record/identity.js";
import { metadataIssues } from "../schemas/request-fields.js";

/** The envelope of a request whose job data is valid. */
export function envelopeOf(
  requestId: string,
  data: AcceptJobData,
  attempts: number,
  completedAt: Date,
): OutcomeEnvelope {
  const action = actionOf(data.request);
  return {
    ...traceOfRun(),
    schemaVersion: OUTCOME_SCHEMA_VERSION,
    eventId: outcomeEventId(requestId),
    requestId,
    action,
    ...(data.redriveOf !== undefined ? { redriveOf: data.redriveOf } : {}),
    ...operationOf(action).envelopeOf(data.request),
    correlationId: data.request.correlationId,
    metadata: data.request.metadata ?? null,
    catalog: data.request.catalog,
    identifier: data.request.identifier,
    clientToken: data.clientToken,
    attempts,
    enqueuedAt: data.enqueuedAt,
    completedAt: completedAt.toISOString(),
    ...(data.decision !== undefined
      ? {
          decidedBy: data.decision.decidedBy,
          ...(data.decision.heldBy !== undefined ? { heldBy: data.decision.heldBy } : {}),
        }
      : {}),
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

/**
 * The outcome of an operation's success (its call's answer, or a read that found the invitation in
 * its done status): `type` is the operation's, the fields its own (src/operations).
 */
export function doneEvent(envelope: OutcomeEnvelope, op: InvitationOperation, fields: OutcomeFields): OutcomeEvent {
  return { ...envelope, type: op.done, ...fields } as OutcomeEvent;
}

export function failedEvent(envelope: OutcomeEnvelope, error: OutcomeError): OutcomeEvent {
  return { ...envelope, type: "failed", error };
}

/** A canceled outcome: the request ended before it started, or before AWS applied it (a read said so). */
export function canceledEvent(envelope: OutcomeEnvelope, reason: string | null): OutcomeEvent {
  return { ...envelope, type: "canceled", reason };
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
