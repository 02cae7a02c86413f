/**
 * The service operations, on top of `EmulatorStore`: one handler each in HANDLERS (its input rules,
 * whether it takes a ClientToken, the output members the model marks optional, its answer). Adding
 * an operation to the emulator is one entry there.
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
import {
  CONNECTION_TYPES,
  INVITATION_STATUSES,
  PARTICIPANT_TYPES,
  type ConnectionType,
  type InvitationStatus,
} from "./types.js";
import {
  CATALOG,
  CLIENT_TOKEN,
  INVITATION_ID,
  MAX_RESULTS,
  NEXT_TOKEN,
  PARTICIPANT_IDENTIFIERS,
  PATTERNS,
  validateInput,
  type InputRules,
} from "./validation.js";
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

/** One operation of the API, as the emulator answers it. */
interface OperationHandler {
  /** Its input members' rules (validation.ts). Members not listed are ignored, as the real service does. */
  readonly rules: InputRules;
  /** It takes a ClientToken (idempotency: see the top of this file). */
  readonly clientToken: boolean;
  /** Output members the model does not require, as dotted paths (`*` = every key or item): `omitOutputFields`. */
  readonly optionalOutput: readonly string[];
  run(store: EmulatorStore, input: Record<string, unknown>, context: OperationContext): ApiResponse;
}

const INVITATION_OPTIONALS = ["ConnectionId", "ExpiresAt"] as const;
const idOf = (input: Record<string, unknown>) => ({ catalog: input.Catalog as string, id: input.Identifier as string });

/** A PENDING invitation's move to `to` (accept, reject, cancel), or the answer AWS gives when it cannot move. */
function transition(
  store: EmulatorStore,
  input: Record<string, unknown>,
  context: OperationContext,
  to: "ACCEPTED" | "REJECTED" | "CANCELED",
) {
  const { catalog, id } = idOf(input);
  const r = store.transition(catalog, id, to);
  if (r === undefined) notFoundInvitation(catalog, id);
  if ("conflict" in r) incompatibleState(context, id, r.conflict, to.toLowerCase());
  return r;
}

/** The operations the emulator answers, by name. */
export const HANDLERS = {
  AcceptConnectionInvitation: {
    rules: { Catalog: CATALOG, Identifier: INVITATION_ID, ClientToken: CLIENT_TOKEN },
    clientToken: true,
    optionalOutput: ["Connection.ConnectionTypes.*.CanceledAt", "Connection.ConnectionTypes.*.CanceledBy"],
    run: (store, input, context) => {
      const r = transition(store, input, context, "ACCEPTED");
      return ok({ Connection: r.connection });
    },
  },
  RejectConnectionInvitation: {
    rules: {
      Catalog: CATALOG,
      Identifier: INVITATION_ID,
      ClientToken: CLIENT_TOKEN,
      Reason: { required: false, max: 256 },
    },
    clientToken: true,
    optionalOutput: INVITATION_OPTIONALS,
    run: (store, input, context) => ok({ ...transition(store, input, context, "REJECTED").invitation }),
  },
  CancelConnectionInvitation: {
    rules: { Catalog: CATALOG, Identifier: INVITATION_ID, ClientToken: CLIENT_TOKEN },
    clientToken: true,
    optionalOutput: INVITATION_OPTIONALS,
    run: (store, input, context) => ok({ ...transition(store, input, context, "CANCELED").invitation }),
  },
  GetConnectionInvitation: {
    rules: { Catalog: CATALOG, Identifier: INVITATION_ID },
    clientToken: false,
    optionalOutput: INVITATION_OPTIONALS,
    run: (store, input) => {
      const { catalog, id } = idOf(input);
      const inv = store.getInvitation(catalog, id);
      if (!inv) notFoundInvitation(catalog, id);
      return ok({ ...inv });
    },
  },
  GetConnection: {
    rules: { Catalog: CATALOG, Identifier: { required: true, pattern: PATTERNS.connectionId } },
    clientToken: false,
    optionalOutput: ["ConnectionTypes.*.CanceledAt", "ConnectionTypes.*.CanceledBy"],
    run: (store, input) => {
      const { catalog, id } = idOf(input);
      const conn = store.getConnection(catalog, id);
      if (!conn) {
        fail("ResourceNotFoundException", `Connection ${id} was not found in catalog ${catalog}`, {
          reason: "CONNECTION_NOT_FOUND",
        });
      }
      return ok({ ...conn });
    },
  },
  CreateConnectionInvitation: {
    rules: {
      Catalog: CATALOG,
      ClientToken: CLIENT_TOKEN,
      ConnectionType: { required: true, enumValues: CONNECTION_TYPES },
      Email: { required: true, min: 1, max: 320, pattern: PATTERNS.email },
      Message: { required: true, min: 1, max: 256, pattern: PATTERNS.unicodeStringWithNewline },
      Name: { required: true, min: 1, max: 80, pattern: PATTERNS.unicodeString },
      ReceiverIdentifier: { required: true, min: 1, max: 100, pattern: PATTERNS.participantIdentifier },
    },
    clientToken: true,
    optionalOutput: INVITATION_OPTIONALS,
    run: (store, input) =>
      ok({
        ...store.create({
          Catalog: input.Catalog as string,
          ConnectionType: input.ConnectionType as ConnectionType,
          Email: input.Email as string,
          Message: input.Message as string,
          Name: input.Name as string,
          ReceiverIdentifier: input.ReceiverIdentifier as string,
        }),
      }),
  },
  ListConnectionInvitations: {
    rules: {
      Catalog: CATALOG,
      NextToken: NEXT_TOKEN,
      ConnectionType: { required: false, enumValues: CONNECTION_TYPES },
      MaxResults: MAX_RESULTS,
      OtherParticipantIdentifiers: PARTICIPANT_IDENTIFIERS,
      ParticipantType: { required: false, enumValues: PARTICIPANT_TYPES },
      Status: { required: false, enumValues: INVITATION_STATUSES },
    },
    clientToken: false,
    optionalOutput: ["ConnectionInvitationSummaries.*.ConnectionId", "ConnectionInvitationSummaries.*.ExpiresAt"],
    run: (store, input, context) => listConnectionInvitations(store, input, pagingOf(context)),
  },
  ListConnections: {
    rules: {
      Catalog: CATALOG,
      NextToken: NEXT_TOKEN,
      ConnectionType: { required: false, min: 1, max: 200, pattern: PATTERNS.connectionTypeFilter },
      MaxResults: MAX_RESULTS,
      OtherParticipantIdentifiers: PARTICIPANT_IDENTIFIERS,
    },
    clientToken: false,
    // NextToken is optional too, but leaving it out would silently truncate the listing.
    optionalOutput: [],
    run: (store, input, context) =>
      listConnections(store, input, { activeOnly: context.listConnectionsActiveOnly === true, ...pagingOf(context) }),
  },
} as const satisfies Record<string, OperationHandler>;

export type OperationName = keyof typeof HANDLERS;

export function isOperationName(name: string): name is OperationName {
  return Object.hasOwn(HANDLERS, name);
}

/** Each operation's input rules (validation.ts). */
export const OPERATION_RULES = Object.fromEntries(
  Object.entries(HANDLERS).map(([name, handler]) => [name, handler.rules]),
) as { readonly [K in OperationName]: (typeof HANDLERS)[K]["rules"] };

/** Canonical form of the request parameters that a ClientToken is bound to. */
function fingerprint(op: OperationName, input: Record<string, unknown>): string {
  const names = Object.keys(HANDLERS[op].rules)
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
  const handler: OperationHandler = HANDLERS[op];
  validateInput(input, handler.rules);
  if (!handler.clientToken) return { response: handler.run(store, input, context), replayed: false };

  const token = input.ClientToken as string;
  const fp = fingerprint(op, input);
  const prior = store.recallToken(op, token);
  if (prior) {
    if (prior.fingerprint === fp) return { response: prior.response, replayed: true };
    fail("ConflictException", `ClientToken ${token} was already used with different parameters for ${op}`, {
      reason: "CONFLICT_CLIENT_TOKEN",
    });
  }
  const response = handler.run(store, input, context);
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
