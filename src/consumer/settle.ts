import type { ClassifiedError } from "../aws/classify-error.js";
import type { CallOptions, InvitationApi } from "../aws/invitation-api.js";
import type { OutcomeEnvelope, OutcomeError } from "../contracts/outcome.js";
import type { InvitationOperation } from "../operations/operation.js";
import { settle } from "../operations/settle.js";
import { doneEvent, failedEvent } from "../outcomes/outcome-events.js";
import type { RunEnd } from "./run-end.js";

/**
 * How a run ends once the invitation was read: `done` is the operation's outcome (it happened),
 * `final` a failed outcome with the caller's error naming the status, `pending` and `unknown` the
 * caller's to decide (each path has its own: try the call, retry, revive, defer, cancel…).
 */
export async function settleRun(
  settling: {
    api: InvitationApi;
    op: InvitationOperation;
    invitation: { catalog: string; identifier: string };
    options?: CallOptions;
    envelope: () => OutcomeEnvelope;
  },
  then: {
    final(status: string): OutcomeError;
    /** How the run ends on a pending invitation; undefined: the caller goes on (a redrive makes its call). */
    pending(status: string): RunEnd | undefined;
    unknown(error: ClassifiedError): RunEnd;
  },
): Promise<RunEnd | undefined> {
  const found = await settle(settling.api, settling.op, settling.invitation, settling.options);
  switch (found.settled) {
    case "done":
      return { end: "outcome", outcome: doneEvent(settling.envelope(), settling.op, found.fields) };
    case "final":
      return { end: "outcome", outcome: failedEvent(settling.envelope(), then.final(found.status)) };
    case "pending":
      return then.pending(found.status);
    case "unknown":
      return then.unknown(found.error);
  }
}

/** The failure of a request found in a status its operation cannot change, read before any call was made. */
export function notPendingError(op: InvitationOperation, status: string, when: string): OutcomeError {
  return {
    name: "InvitationNotPending",
    reason: status,
    message: `the invitation is ${status}; it can no longer be ${op.done} (${when}; the API was not called)`,
    httpStatus: null,
    awsRequestId: null,
    retryable: false,
    invitationStatus: status,
  };
}
