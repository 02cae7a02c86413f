import { z } from "zod";
import { classifyError } from "../aws/classify-error.js";
import { connectionToEvent } from "../aws/connection-to-event.js";
import type { CallOptions, InvitationApi, InvitationStatusResult } from "../aws/invitation-api.js";
import { connectionSchema, type Connection } from "../schemas/connection.js";
import type { InvitationOperation } from "./operation.js";

/** Most ListConnections pages read while looking for an accepted invitation's connection. */
const MAX_CONNECTION_PAGES = 10;

/**
 * Accept: AcceptConnectionInvitation (the default action: requests written before there was a
 * choice mean what they always meant). Its outcome is `accepted` with the new connection. An
 * invitation found ACCEPTED by a read is accepted too (`alreadyAccepted`): nothing is assumed about
 * what AWS leaves out, since `ConnectionId` is optional in GetConnectionInvitation's output, so
 * without it the connection is searched for with ListConnections (the invitation's other
 * participant and connection type) and read with GetConnection; found or not, the outcome is
 * `accepted` (with `connection: null` and a `reason` when none was found).
 */
export const accept = {
  action: "accept",
  done: "accepted",
  describe: '"accept" (the default: AcceptConnectionInvitation)',
  apiOperation: "AcceptConnectionInvitation",
  requestFields: {},
  envelopeFields: {},
  envelopeOf: () => ({}),
  requestFieldsOf: () => ({}),
  outcomeFields: {
    /**
     * The connection. Null only when the invitation was found ACCEPTED but AWS named no connection
     * and none could be found (`alreadyAccepted` is then true and `reason` says so).
     */
    connection: connectionSchema.nullable(),
    awsRequestId: z.string().nullable(),
    /**
     * True when our Accept call did not itself succeed but the invitation was found ACCEPTED
     * (GetConnectionInvitation, then GetConnection, or ListConnections when AWS gave no connection
     * id): accepted earlier, by another token, or by a call whose answer was lost.
     */
    alreadyAccepted: z.boolean(),
    /** Why `connection` is null, when it is. */
    reason: z.string().optional(),
  },
  doneStatus: "ACCEPTED",
  finalStatuses: new Set(["REJECTED", "CANCELED", "EXPIRED"]),

  async call(api, request, options?) {
    const { output, awsRequestId } = await api.act(
      "AcceptConnectionInvitation",
      { Catalog: request.catalog, Identifier: request.identifier, ClientToken: request.clientToken },
      options,
    );
    return { connection: connectionToEvent(output.Connection), awsRequestId, alreadyAccepted: false };
  },

  async alreadyDone(api, catalog, inv, options?) {
    const connectionId = inv.connectionId ?? (await findConnection(api, catalog, inv, options));
    if (!connectionId) {
      const type = inv.connectionType ?? "(unknown type)";
      const other = inv.otherParticipantIdentifier ?? "(unknown participant)";
      return {
        connection: null,
        awsRequestId: null,
        alreadyAccepted: true,
        reason:
          "the invitation is ACCEPTED, but GetConnectionInvitation named no ConnectionId and " +
          `ListConnections found no ${type} connection with ${other}`,
      };
    }
    const { connection, awsRequestId } = await api.getConnection({ catalog, connectionId }, options);
    return { connection, awsRequestId, alreadyAccepted: true };
  },

  classify: classifyError,

  describeOutcome(o) {
    const connection = o.connection as Connection | null;
    return {
      outcome: o.alreadyAccepted ? "accepted (already)" : "accepted",
      detail: connection?.Id ?? "(connection not found)",
    };
  },
  logFields(o) {
    const connection = o.connection as Connection | null;
    return {
      connectionId: connection?.Id ?? null,
      awsRequestId: o.awsRequestId,
      alreadyAccepted: o.alreadyAccepted,
      ...(o.reason ? { reason: o.reason } : {}),
    };
  },
} as const satisfies InvitationOperation;

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
