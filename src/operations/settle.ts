import { classifyError, type ClassifiedError } from "../aws/classify-error.js";
import type { CallOptions, InvitationApi } from "../aws/invitation-api.js";
import type { InvitationOperation, OutcomeFields } from "./operation.js";

/**
 * Settling a request by reading its invitation: the one step every path takes before it reports
 * anything about a request whose call may have reached AWS without an answer (a lost reply, a
 * timeout, a 5xx, a conflict), or that runs again much later (a redrive), or that ended without
 * its outcome (the sweeper), or that is canceled after an attempt (cancel). Only the invitation's
 * status says whether the request happened.
 */
export type Settled =
  /** The invitation is in the operation's done status: the request happened (its outcome's fields). */
  | { settled: "done"; fields: OutcomeFields }
  /** The invitation is in a status the operation can never change (REJECTED for an accept…). */
  | { settled: "final"; status: string }
  /** Still open (PENDING, or a status AWS adds later): the operation may be tried. */
  | { settled: "pending"; status: string }
  /** The read itself failed (a fault of the worker's own, a throttle, a 5xx…). */
  | { settled: "unknown"; error: ClassifiedError };

/** Reads the invitation (GetConnectionInvitation, and what `op` reads to build its outcome) and says what it found. */
export async function settle(
  api: InvitationApi,
  op: InvitationOperation,
  invitation: { catalog: string; identifier: string },
  options?: CallOptions,
): Promise<Settled> {
  try {
    const inv = await api.getInvitation(invitation, options);
    if (inv.status === op.doneStatus) {
      return { settled: "done", fields: await op.alreadyDone(api, invitation.catalog, inv, options) };
    }
    if (op.finalStatuses.has(inv.status)) return { settled: "final", status: inv.status };
    return { settled: "pending", status: inv.status };
  } catch (err) {
    return { settled: "unknown", error: classifyError(err) };
  }
}
