import type { InvitationApi, InvitationStatusResult } from "../../src/aws/invitation-api.js";

/**
 * A Partner Central API in memory, for unit tests of pure logic (processJob, settle, sweep,
 * cancel over the in-memory store): invitations by id, the calls made, and scripted answers.
 * Integration tests use the emulator and the real SDK instead.
 */
export interface FakeApi extends InvitationApi {
  /** Every call, in order: the operation's AWS name and its input. */
  readonly calls: Array<{ operation: string; input: Record<string, unknown> }>;
  /** Sets an invitation's status (PENDING by default when first named). */
  setStatus(identifier: string, status: string): void;
  status(identifier: string): string | undefined;
  /**
   * The next `times` calls of `operation` fail with `error` (an SDK-like error); with `applied`,
   * the call takes effect first (its answer is lost).
   */
  script(operation: string, error: () => unknown, options?: { times?: number; applied?: boolean }): void;
}

/** An SDK-like error of AWS: its name, its Reason, its HTTP status. */
export function awsError(name: string, httpStatus: number, extra: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(`${name} from the fake`), {
    name,
    $metadata: { httpStatusCode: httpStatus, requestId: `req-${name}` },
    ...extra,
  });
}

/** A connection reset: an answer that may have been applied (indeterminate). */
export function connectionReset(): Error {
  return Object.assign(new Error("socket hang up"), { name: "Error", code: "ECONNRESET" });
}

export function fakeApi(): FakeApi {
  const statuses = new Map<string, string>();
  const connections = new Map<string, string>();
  const scripts: Array<{ operation: string; error: () => unknown; times: number; applied: boolean }> = [];
  const calls: FakeApi["calls"] = [];
  const statusOf = (id: string) => statuses.get(id) ?? "PENDING";
  const scripted = (operation: string) => {
    const s = scripts.find((x) => x.operation === operation && x.times > 0);
    if (s) s.times--;
    return s;
  };
  const record = (identifier: string) => ({ Id: identifier, Status: statusOf(identifier), Catalog: "AWS" });

  const api: FakeApi = {
    calls,
    setStatus(id, status) {
      statuses.set(id, status);
      if (status === "ACCEPTED") connections.set(id, `pac-${id.slice(-13)}`);
    },
    status: (id) => statuses.get(id),
    script(operation, error, options = {}) {
      scripts.push({ operation, error, times: options.times ?? 1, applied: options.applied ?? false });
    },
    async act(operation, input) {
      calls.push({ operation, input });
      const id = String(input.Identifier);
      const s = scripted(operation);
      const to = operation === "AcceptConnectionInvitation" ? "ACCEPTED" : "REJECTED";
      const apply = () => {
        if (statusOf(id) !== "PENDING") {
          throw awsError("ConflictException", 409, { Reason: "INCOMPATIBLE_CONNECTION_INVITATION_STATE" });
        }
        statuses.set(id, to);
        if (to === "ACCEPTED") connections.set(id, `pac-${id.slice(-13)}`);
      };
      if (s) {
        if (s.applied) apply();
        throw s.error();
      }
      apply();
      const output =
        to === "ACCEPTED" ? { Connection: { Id: connections.get(id), Catalog: "AWS" } } : { ...record(id) };
      return { output, awsRequestId: `req-${calls.length}` };
    },
    async getInvitation({ identifier }) {
      calls.push({ operation: "GetConnectionInvitation", input: { Identifier: identifier } });
      const s = scripted("GetConnectionInvitation");
      if (s) throw s.error();
      const status = statusOf(identifier);
      return {
        status,
        connectionId: connections.get(identifier) ?? null,
        otherParticipantIdentifier: "111122223333",
        connectionType: "OPPORTUNITY_COLLABORATION",
        invitation: record(identifier) as unknown as InvitationStatusResult["invitation"],
        awsRequestId: `req-${calls.length}`,
      };
    },
    async getConnection({ connectionId }) {
      calls.push({ operation: "GetConnection", input: { Identifier: connectionId } });
      return { connection: { Id: connectionId, Catalog: "AWS" } as never, awsRequestId: `req-${calls.length}` };
    },
    async listInvitations() {
      return { invitations: [], nextToken: null };
    },
    async listConnections() {
      return { connections: [], nextToken: null };
    },
  };
  return api;
}
