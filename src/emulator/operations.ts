/**
 * The service operations, on top of `EmulatorStore`.
 *
 * Order of checks for every operation (as real AWS services do it):
 *   1. input validation (400 ValidationException, nothing else evaluated);
 *   2. ClientToken idempotency, for operations that have one;
 *   3. existence (404) and state (409) checks, then the state change.
 *
 * Idempotency contract: tokens are remembered per operation, and only for
 * successful (200) responses. A repeated token with the same parameters
 * (every modelled member except ClientToken) replays the first response body
 * verbatim and changes nothing; with different parameters it is a 409
 * ConflictException CONFLICT_CLIENT_TOKEN. A token whose first use failed is
 * not remembered, so the request is evaluated afresh.
 *
 * State conflicts: Accept, Reject and Cancel of an invitation that is no
 * longer PENDING are a 409 ConflictException whose Reason is
 * INCOMPATIBLE_CONNECTION_INVITATION_STATE unless the caller's context (the
 * `stateConflictReason` switch) picks another one for that status.
 */
import { listConnectionInvitations, listConnections } from "./list-operations.js";
import type { EmulatorStore } from "./state.js";
import type { ConnectionType, InvitationStatus } from "./types.js";
import { OPERATION_RULES, validateInput, type OperationName } from "./validation.js";
import { fail, ok, type ApiResponse } from "./wire.js";

/** Choices the operations take from the emulator's switches. */
export interface OperationContext {
  /** Reason of the ConflictException for a transition from `status`; undefined = the default. */
  conflictReasonFor?: (status: InvitationStatus) => string | undefined;
  /** ListConnections leaves out connections without an ACTIVE type (the `listConnectionsActiveOnly` switch). */
  listConnectionsActiveOnly?: boolean;
  /** The `repeatNextToken` switch: the List operations' NextTokens never end the listing. */
  repeatNextToken?: "same" | "wrap";
}

export interface OperationResult {
  response: ApiResponse;
  /** True when the response was replayed for a repeated ClientToken. */
  replayed: boolean;
}

const TOKEN_OPERATIONS: ReadonlySet<OperationName> = new Set<OperationName>([
  "AcceptConnectionInvitation",
  "RejectConnectionInvitation",
  "CancelConnectionInvitation",
  "CreateConnectionInvitation",
]);

/** Canonical form of the request parameters that a ClientToken is bound to. */
function fingerprint(op: OperationName, input: Record<string, unknown>): string {
  const names = Object.keys(OPERATION_RULES[op])
    .filter((n) => n !== "ClientToken")
    .sort();
  return JSON.stringify(names.map((n) => [n, input[n] ?? null]));
}

function pagingOf(context: OperationContext): { repeatNextToken?: "same" | "wrap" } {
  return context.repeatNextToken ? { repeatNextToken: context.repeatNextToken } : {};
}

/** Runs one operation. Throws `ApiError` for modelled errors. */
export function executeOperation(
  store: EmulatorStore,
  op: OperationName,
  input: Record<string, unknown>,
  context: OperationContext = {},
): OperationResult {
  validateInput(input, OPERATION_RULES[op]);
  if (!TOKEN_OPERATIONS.has(op)) return { response: run(store, op, input, context), replayed: false };

  const token = input.ClientToken as string;
  const fp = fingerprint(op, input);
  const prior = store.recallToken(op, token);
  if (prior) {
    if (prior.fingerprint === fp) return { response: prior.response, replayed: true };
    fail("ConflictException", `ClientToken ${token} was already used with different parameters for ${op}`, {
      reason: "CONFLICT_CLIENT_TOKEN",
    });
  }
  const response = run(store, op, input, context);
  if (response.status === 200) store.rememberToken(op, token, { fingerprint: fp, response });
  return { response, replayed: false };
}

function notFoundInvitation(catalog: string, id: string): never {
  return fail("ResourceNotFoundException", `Connection invitation ${id} was not found in catalog ${catalog}`, {
    reason: "CONNECTION_INVITATION_NOT_FOUND",
  });
}

function incompatibleState(context: OperationContext, id: string, status: InvitationStatus, action: string): never {
  return fail(
    "ConflictException",
    `Connection invitation ${id} is ${status}; only PENDING invitations can be ${action}`,
    { reason: context.conflictReasonFor?.(status) ?? "INCOMPATIBLE_CONNECTION_INVITATION_STATE" },
  );
}

function run(
  store: EmulatorStore,
  op: OperationName,
  input: Record<string, unknown>,
  context: OperationContext,
): ApiResponse {
  const catalog = input.Catalog as string;
  const id = input.Identifier as string;
  switch (op) {
    case "AcceptConnectionInvitation": {
      const r = store.transition(catalog, id, "ACCEPTED");
      if (r === undefined) notFoundInvitation(catalog, id);
      if ("conflict" in r) incompatibleState(context, id, r.conflict, "accepted");
      return ok({ Connection: r.connection });
    }
    case "RejectConnectionInvitation":
    case "CancelConnectionInvitation": {
      const to = op === "RejectConnectionInvitation" ? "REJECTED" : "CANCELED";
      const r = store.transition(catalog, id, to);
      if (r === undefined) notFoundInvitation(catalog, id);
      if ("conflict" in r) incompatibleState(context, id, r.conflict, to.toLowerCase());
      return ok({ ...r.invitation });
    }
    case "ListConnectionInvitations":
      return listConnectionInvitations(store, input, pagingOf(context));
    case "ListConnections":
      return listConnections(store, input, {
        activeOnly: context.listConnectionsActiveOnly === true,
        ...pagingOf(context),
      });
    case "GetConnectionInvitation": {
      const inv = store.getInvitation(catalog, id);
      if (!inv) notFoundInvitation(catalog, id);
      return ok({ ...inv });
    }
    case "GetConnection": {
      const conn = store.getConnection(catalog, id);
      if (!conn) {
        fail("ResourceNotFoundException", `Connection ${id} was not found in catalog ${catalog}`, {
          reason: "CONNECTION_NOT_FOUND",
        });
      }
      return ok({ ...conn });
    }
    case "CreateConnectionInvitation": {
      const record = store.create({
        Catalog: catalog,
        ConnectionType: input.ConnectionType as ConnectionType,
        Email: input.Email as string,
        Message: input.Message as string,
        Name: input.Name as string,
        ReceiverIdentifier: input.ReceiverIdentifier as string,
      });
      return ok({ ...record });
    }
  }
}
