import type { Connection } from "../schemas/connection.js";
import type { Invitation } from "../schemas/invitation.js";

/** The few Partner Central calls pc-invitations makes: the port the worker depends on. */
export interface InvitationApi {
  /**
   * An operation on an invitation (src/operations: AcceptConnectionInvitation,
   * RejectConnectionInvitation…) by its AWS name, with its input as AWS names it (`Catalog`,
   * `Identifier`, *our* `ClientToken`, never left to the SDK, which would make a new one per send(),
   * and the operation's own members). Resolves to AWS's output members and request id; throws the
   * SDK's exception on failure (classify it with classifyError).
   */
  act(operation: string, input: Record<string, unknown>, options?: CallOptions): Promise<ActResult>;
  /** GetConnectionInvitation: the invitation's status, whom it is with, and (maybe) its connection id. */
  getInvitation(input: { catalog: string; identifier: string }, options?: CallOptions): Promise<InvitationStatusResult>;
  /** ListConnectionInvitations with filters, one page at a time (NextToken). */
  listInvitations(input: ListInvitationsInput, options?: CallOptions): Promise<ListInvitationsResult>;
  /** GetConnection, in outcome-event form. */
  getConnection(input: { catalog: string; connectionId: string }, options?: CallOptions): Promise<ConnectionResult>;
  /** ListConnections with a participant and a connection type, one page at a time (NextToken). */
  listConnections(input: ListConnectionsInput, options?: CallOptions): Promise<ListConnectionsResult>;
}

export interface CallOptions {
  signal?: AbortSignal;
}

/** What an operation on an invitation answered: its output members (without $metadata), and AWS's request id. */
export interface ActResult {
  output: Record<string, unknown>;
  awsRequestId: string | null;
}

/** A connection (GetConnection), in outcome-event form. */
export interface ConnectionResult {
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
  /** The whole record, as in outcome events (the `rejected` outcome of an invitation found REJECTED). */
  invitation: Invitation;
  awsRequestId: string | null;
}

export interface ListInvitationsInput {
  catalog: string;
  /** RECEIVER: invitations sent to us. */
  participantType?: string;
  status?: string;
  nextToken?: string;
  /** Page size, 1-100 (AWS's default when unset: 20). */
  maxResults?: number;
}

/**
 * One invitation of a list page (ConnectionInvitationSummary). AWS leaves the inviter's name,
 * e-mail and message out of summaries: GetConnectionInvitation has them.
 */
export interface InvitationSummary {
  catalog: string;
  identifier: string;
  status: string;
  connectionType: string | null;
  participantType: string | null;
  otherParticipantIdentifier: string | null;
  createdAt: string | null;
  expiresAt: string | null;
}

export interface ListInvitationsResult {
  invitations: InvitationSummary[];
  nextToken: string | null;
}

export interface ListConnectionsInput {
  catalog: string;
  /** Page size, 1-100 (AWS's default when unset: 20). */
  maxResults?: number;
  otherParticipantIdentifier?: string;
  connectionType?: string;
  nextToken?: string;
}

export interface ConnectionSummary {
  id: string;
  /** Per connection type: its status (ACTIVE, CANCELED, …). */
  typeStatuses: Record<string, string>;
  updatedAt: string | null;
  /** The other side's AWS account id, when AWS says. */
  otherParticipantAccountId?: string | null;
}

export interface ListConnectionsResult {
  connections: ConnectionSummary[];
  nextToken: string | null;
}
