import { z } from "zod";
import { classifyError } from "../aws/classify-error.js";
import { invitationToEvent } from "../aws/connection-to-event.js";
import { invitationSchema } from "../schemas/invitation.js";
import { REJECT_REASON_MAX_LENGTH } from "../schemas/request-fields.js";
import type { InvitationOperation } from "./operation.js";

/**
 * Reject: RejectConnectionInvitation, with the request's optional `reason` (its `Reason`). Its
 * outcome is `rejected` with the invitation record AWS returns; an invitation found REJECTED by a
 * read is rejected too (`alreadyRejected`, the record GetConnectionInvitation returned).
 */
export const reject = {
  action: "reject",
  done: "rejected",
  describe: '"reject" (RejectConnectionInvitation)',
  apiOperation: "RejectConnectionInvitation",
  requestFields: {
    reason: z
      .string({ error: "must be a string" })
      .max(REJECT_REASON_MAX_LENGTH, { error: `must be at most ${REJECT_REASON_MAX_LENGTH} characters` })
      .optional()
      .describe(
        `With action "reject" only: the Reason sent to RejectConnectionInvitation ` +
          `(at most ${REJECT_REASON_MAX_LENGTH} characters).`,
      ),
  },
  envelopeFields: {
    /** A reject: the `reason` it sent to RejectConnectionInvitation, when it gave one. */
    rejectReason: z.string().optional(),
  },
  envelopeOf: (request: Record<string, unknown>) =>
    typeof request.reason === "string" ? { rejectReason: request.reason } : {},
  requestFieldsOf: (envelope: Record<string, unknown>) =>
    typeof envelope.rejectReason === "string" ? { reason: envelope.rejectReason } : {},
  outcomeFields: {
    /** The invitation record RejectConnectionInvitation (or, when already rejected, GetConnectionInvitation) returned.
     * */
    invitation: invitationSchema,
    awsRequestId: z.string().nullable(),
    /**
     * True when our Reject call did not itself succeed but the invitation was found REJECTED
     * (rejected earlier, by another token, or by a call whose answer was lost).
     */
    alreadyRejected: z.boolean(),
  },
  doneStatus: "REJECTED",
  finalStatuses: new Set(["ACCEPTED", "CANCELED", "EXPIRED"]),

  async call(api, request, options?) {
    const reason = request.request.reason;
    const { output, awsRequestId } = await api.act(
      "RejectConnectionInvitation",
      {
        Catalog: request.catalog,
        Identifier: request.identifier,
        ClientToken: request.clientToken,
        ...(typeof reason === "string" ? { Reason: reason } : {}),
      },
      options,
    );
    return { invitation: invitationToEvent(output), awsRequestId, alreadyRejected: false };
  },

  async alreadyDone(_api, _catalog, inv, _options?) {
    return { invitation: inv.invitation, awsRequestId: inv.awsRequestId, alreadyRejected: true };
  },

  classify: classifyError,

  describeOutcome(o) {
    return {
      outcome: o.alreadyRejected ? "rejected (already)" : "rejected",
      detail: typeof o.rejectReason === "string" ? o.rejectReason : "",
    };
  },
  logFields(o) {
    return { awsRequestId: o.awsRequestId, alreadyRejected: o.alreadyRejected };
  },
} as const satisfies InvitationOperation;
