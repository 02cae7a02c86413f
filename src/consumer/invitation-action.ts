import type { CallOptions, InvitationApi } from "../aws/invitation-api.js";
import type { AcceptJobData } from "../schemas/job.js";
import type { OutcomeEnvelope, OutcomeError, OutcomeEvent } from "../schemas/outcome.js";
import { actionOf, type RequestAction } from "../schemas/request.js";
import { acceptedEvent, rejectedEvent } from "../outcomes/outcome-events.js";

/**
 * The parts of a run that depend on the request's action: which API call it makes, what its
 * success becomes, and how a final status it cannot change is worded. Everything else (pacing,
 * classification, decisions, reconciliation, publishing) is the same for every action.
 */

/** The past tense of each action, as outcome types and messages say it. */
export const DONE: Readonly<Record<RequestAction, "accepted" | "rejected">> = {
  accept: "accepted",
  reject: "rejected",
};

/**
 * The request's one API call, with the job's ClientToken: AcceptConnectionInvitation or
 * RejectConnectionInvitation (with its Reason). Resolves to the outcome of its success, given the
 * envelope; throws the SDK's exception otherwise.
 */
export async function callAction(
  api: InvitationApi,
  data: AcceptJobData,
  options?: CallOptions,
): Promise<(envelope: OutcomeEnvelope) => OutcomeEvent> {
  const { catalog, identifier, reason } = data.request;
  if (actionOf(data.request) === "reject") {
    const result = await api.rejectInvitation(
      { catalog, identifier, clientToken: data.clientToken, ...(reason !== undefined ? { reason } : {}) },
      options,
    );
    return (envelope) => rejectedEvent(envelope, result, false);
  }
  const result = await api.acceptInvitation({ catalog, identifier, clientToken: data.clientToken }, options);
  return (envelope) => acceptedEvent(envelope, result, false);
}

/** The failure of a redrive that found its invitation in a status its action cannot change: no call was made. */
export function notPendingError(action: RequestAction, status: string): OutcomeError {
  return {
    name: "InvitationNotPending",
    reason: status,
    message:
      `the invitation is ${status}; it can no longer be ` +
      `${DONE[action]} (read before redriving; the API was not called)`,
    httpStatus: null,
    awsRequestId: null,
    retryable: false,
    invitationStatus: status,
  };
}
