import type { InvitationApi, AcceptInvitationResult, CallOptions } from "../aws/invitation-api.js";
import { classifyError, type ClassifiedError } from "../aws/classify-error.js";

/** Statuses after which an invitation can never be accepted. */
export const FINAL_NOT_ACCEPTED = new Set(["REJECTED", "CANCELED", "EXPIRED"]);

export type Reconciliation =
  /** The invitation is ACCEPTED; here is its connection. */
  | { found: "accepted"; result: AcceptInvitationResult }
  /** The invitation is REJECTED, CANCELED or EXPIRED. */
  | { found: "final"; status: string }
  /** Still PENDING, or accepted without a connection id yet: the accept should be tried again. */
  | { found: "pending"; status: string }
  /** The look-up itself failed. */
  | { found: "error"; error: ClassifiedError };

/**
 * Looks the invitation up (GetConnectionInvitation, then GetConnection for its ConnectionId) to
 * learn what really happened when Accept answered with a state conflict or never answered.
 */
export async function reconcile(
  api: InvitationApi,
  catalog: string,
  identifier: string,
  options?: CallOptions,
): Promise<Reconciliation> {
  try {
    const inv = await api.getInvitation({ catalog, identifier }, options);
    if (inv.status === "ACCEPTED" && inv.connectionId) {
      return { found: "accepted", result: await api.getConnection({ catalog, connectionId: inv.connectionId }, options) };
    }
    if (FINAL_NOT_ACCEPTED.has(inv.status)) return { found: "final", status: inv.status };
    return { found: "pending", status: inv.status };
  } catch (err) {
    return { found: "error", error: classifyError(err) };
  }
}
