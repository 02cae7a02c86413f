import type { Connection } from "../schemas/connection.js";

/** The few Partner Central calls pc-invitations makes: the port the worker depends on. */
export interface InvitationApi {
  /**
   * AcceptConnectionInvitation with *our* ClientToken (never left to the SDK, which would make a
   * new one per send()). Throws the SDK's exception on failure; classify it with classifyError.
   */
  acceptInvitation(input: AcceptInvitationInput, options?: { signal?: AbortSignal }): Promise<AcceptInvitationResult>;
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
