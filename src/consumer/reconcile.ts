import type {
  AcceptInvitationResult,
  CallOptions,
  InvitationApi,
  InvitationStatusResult,
  RejectInvitationResult,
} from "../aws/invitation-api.js";
import { classifyError, type ClassifiedError } from "../aws/classify-error.js";
import type { RequestAction } from "../schemas/request.js";

/** Statuses after which an invitation can never be accepted. */
export const FINAL_NOT_ACCEPTED = new Set(["REJECTED", "CANCELED", "EXPIRED"]);
/** Statuses after which an invitation can never be rejected. */
export const FINAL_NOT_REJECTED = new Set(["ACCEPTED", "CANCELED", "EXPIRED"]);

/** Most ListConnections pages read while looking for an accepted invitation's connection. */
const MAX_CONNECTION_PAGES = 10;

export type Reconciliation =
  /**
   * The invitation is ACCEPTED. `result` is its connection, or null when AWS named none and none
   * could be found; `note` then says why.
   */
  | { found: "accepted"; result: AcceptInvitationResult | null; note?: string }
  /** A reject's invitation is REJECTED: the record GetConnectionInvitation returned. */
  | { found: "rejected"; result: RejectInvitationResult }
  /** The invitation is in a final status the action cannot change (REJECTED, CANCELED or EXPIRED for an accept; ACCEPTED, CANCELED or EXPIRED for a reject). */
  | { found: "final"; status: string }
  /** Still PENDING (or a status AWS adds later): the accept may be tried again. */
  | { found: "pending"; status: string }
  /** A look-up itself failed. */
  | { found: "error"; error: ClassifiedError };

/**
 * Looks the invitation up to learn what really happened when Accept or Reject answered with a
 * conflict or never answered (and, for a redrive, before calling at all). For an accept, nothing
 * is assumed about what AWS leaves out: `ConnectionId` is optional in GetConnectionInvitation's
 * output, so without it the connection is searched for with ListConnections (the invitation's
 * other participant and connection type) and read with GetConnection. An ACCEPTED invitation is
 * reported accepted, found connection or not; for a reject, a REJECTED one is reported rejected.
 */
export async function reconcile(
  api: InvitationApi,
  catalog: string,
  identifier: string,
  options?: CallOptions,
  action: RequestAction = "accept",
): Promise<Reconciliation> {
  try {
    const inv = await api.getInvitation({ catalog, identifier }, options);
    if (action === "reject") {
      if (inv.status === "REJECTED")
        return { found: "rejected", result: { invitation: inv.invitation, awsRequestId: inv.awsRequestId } };
      if (FINAL_NOT_REJECTED.has(inv.status)) return { found: "final", status: inv.status };
      return { found: "pending", status: inv.status };
    }
    if (inv.status === "ACCEPTED") {
      const connectionId = inv.connectionId ?? (await findConnection(api, catalog, inv, options));
      if (!connectionId) {
        return {
          found: "accepted",
          result: null,
          note:
            `the invitation is ACCEPTED, but GetConnectionInvitation named no ConnectionId and ListConnections ` +
            `found no ${inv.connectionType ?? "(unknown type)"} connection with ${inv.otherParticipantIdentifier ?? "(unknown participant)"}`,
        };
      }
      return { found: "accepted", result: await api.getConnection({ catalog, connectionId }, options) };
    }
    if (FINAL_NOT_ACCEPTED.has(inv.status)) return { found: "final", status: inv.status };
    return { found: "pending", status: inv.status };
  } catch (err) {
    return { found: "error", error: classifyError(err) };
  }
}

/**
 * The connection an accepted invitation made: among the connections with its other participant
 * that have its connection type, an ACTIVE one (else any), the most recently updated.
 */
async function findConnection(
  api: InvitationApi,
  catalog: string,
  inv: InvitationStatusResult,
  options?: CallOptions,
): Promise<string | undefined> {
  if (!inv.otherParticipantIdentifier) return undefined;
  const candidates: Array<{ id: string; active: boolean; updatedAt: string }> = [];
  let nextToken: string | undefined;
  for (let page = 0; page < MAX_CONNECTION_PAGES; page++) {
    const out = await api.listConnections(
      {
        catalog,
        otherParticipantIdentifier: inv.otherParticipantIdentifier,
        ...(inv.connectionType ? { connectionType: inv.connectionType } : {}),
        ...(nextToken ? { nextToken } : {}),
      },
      options,
    );
    for (const c of out.connections) {
      const status = inv.connectionType ? c.typeStatuses[inv.connectionType] : Object.values(c.typeStatuses)[0];
      if (status !== undefined)
        candidates.push({ id: c.id, active: status === "ACTIVE", updatedAt: c.updatedAt ?? "" });
    }
    if (!out.nextToken) break;
    nextToken = out.nextToken;
  }
  candidates.sort(
    (a, b) =>
      Number(b.active) - Number(a.active) || (a.updatedAt < b.updatedAt ? 1 : a.updatedAt > b.updatedAt ? -1 : 0),
  );
  return candidates[0]?.id;
}
