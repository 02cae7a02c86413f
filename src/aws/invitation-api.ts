import type { Connection } from "../schemas/connection.js";

/** The few Partner Central calls pc-invitations makes: the port the worker depends on. */
export interface InvitationApi {
  /**
   * AcceptConnectionInvitation with *our* ClientToken (never left to the SDK, which would make a
   * new one per send()). Throws the SDK's exception on failure; classify it with classifyError.
   */
  acceptInvitation(input: AcceptInvitationInput, options?: CallOptions): Promise<AcceptInvitationResult>;
  /** GetConnectionInvitation: the invitation's status, whom it is with, and (maybe) its connection id. */
  getInvitation(input: { catalog: string; identifier: string }, options?: CallOptions): Promise<InvitationStatusResult>;
  /** GetConnection, in outcome-event form. */
  getConnection(input: { catalog: string; connectionId: string }, options?: CallOptions): Promise<AcceptInvitationResult>;
  /** ListConnections with a participant and a connection type, one page at a time (NextToken). */
  listConnections(input: ListConnectionsInput, options?: CallOptions): Promise<ListConnectionsResult>;
}

export interface CallOptions {
  signal?: AbortSignal;
}

export interface AcceptInvitationInput {
  catalog: string;
  identifier: string;
  clientToken: string;
}

export interface AcceptInvitationResult {
  /** As in outcome events: timestamps ISO-8601, unknown members kept. */
  connection: Connection;
  awsRequestId: string | null;
}

export interface InvitationStatusResult {
  /** PENDING | ACCEPTED | REJECTED | CANCELED | EXPIRED, or a value AWS adds later. */
  status: string;
  /** Optional in the model: AWS may leave it out even for an ACCEPTED invitation. */
  connectionId: string | null;
  /** Whom the invitation is with (an account id or profile id), when AWS says. */
  otherParticipantIdentifier: string | null;
  /** OPPORTUNITY_COLLABORATION, SUBSIDIARY, or a value AWS adds later, when AWS says. */
  connectionType: string | null;
}

export interface ListConnectionsInput {
  catalog: string;
  otherParticipantIdentifier?: string;
  connectionType?: string;
  nextToken?: string;
}

export interface ConnectionSummary {
  id: string;
  /** Per connection type: its status (ACTIVE, CANCELED, …). */
  typeStatuses: Record<string, string>;
  updatedAt: string | null;
}

export interface ListConnectionsResult {
  connections: ConnectionSummary[];
  nextToken: string | null;
}
