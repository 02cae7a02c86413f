import type { Connection } from "../schemas/connection.js";

/** The few Partner Central calls pc-invitations makes: the port the worker depends on. */
export interface InvitationApi {
  /**
   * AcceptConnectionInvitation with *our* ClientToken (never left to the SDK, which would make a
   * new one per send()). Throws the SDK's exception on failure; classify it with classifyError.
   */
  acceptInvitation(input: AcceptInvitationInput, options?: CallOptions): Promise<AcceptInvitationResult>;
  /** GetConnectionInvitation: the invitation's status and, once accepted, its connection id. */
  getInvitation(input: { catalog: string; identifier: string }, options?: CallOptions): Promise<InvitationStatusResult>;
  /** GetConnection, in outcome-event form. */
  getConnection(input: { catalog: string; connectionId: string }, options?: CallOptions): Promise<AcceptInvitationResult>;
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
  connectionId: string | null;
}
