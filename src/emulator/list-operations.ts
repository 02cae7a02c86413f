/**
 * ListConnectionInvitations and ListConnections (reference §4.2): filters,
 * summaries and paging. Input is validated before these run.
 *
 * Filters combine with AND; `OtherParticipantIdentifiers` matches any of its
 * values (an empty list filters nothing). Summaries carry exactly the
 * members of `ConnectionInvitationSummary` / `ConnectionSummary`.
 *
 * Inferred, not documented by AWS:
 * - an invitation's participant identifier is its `OtherParticipantIdentifier`;
 *   a connection's is its `OtherParticipantAccountId` or the Id of the
 *   `PartnerProfile`/`SellerProfile` of any of its types;
 * - ListConnections' `ConnectionType` (a `ConnectionTypeFilter` string,
 *   `^[a-zA-Z_-]+(:[a-zA-Z]+)?$`) is a type name, optionally `:<status>`
 *   (`SUBSIDIARY:ACTIVE`); a name no connection has matches nothing;
 * - ListConnections lists connections whatever the status of their types
 *   (AWS's documentation says "Lists active connections": the
 *   `listConnectionsActiveOnly` switch leaves out those without an ACTIVE type).
 */
import { DEFAULT_MAX_RESULTS, decodeNextToken, encodeNextToken, takePage } from "./paging.js";
import type { EmulatorStore } from "./state.js";
import type { ConnectionRecord, InvitationRecord } from "./types.js";
import { ok, type ApiResponse } from "./wire.js";

type Input = Record<string, unknown>;

const identifiersOf = (input: Input): string[] | undefined => {
  const ids = input.OtherParticipantIdentifiers as string[] | undefined;
  return ids && ids.length > 0 ? ids : undefined;
};

/** Canonical form of the filters a NextToken is bound to. */
function filterKey(input: Input, members: readonly string[]): string {
  const ids = identifiersOf(input);
  return JSON.stringify(
    members.map((m) => (m === "OtherParticipantIdentifiers" ? (ids ? [...ids].sort() : null) : (input[m] ?? null))),
  );
}

function invitationSummary(r: InvitationRecord): Record<string, unknown> {
  const { InvitationMessage: _m, InviterEmail: _e, InviterName: _n, ...summary } = r;
  return summary;
}

function connectionSummary(c: ConnectionRecord): Record<string, unknown> {
  const types: Record<string, unknown> = {};
  for (const [type, d] of Object.entries(c.ConnectionTypes)) {
    if (d) types[type] = { Status: d.Status, OtherParticipant: d.OtherParticipant };
  }
  return {
    Catalog: c.Catalog,
    Id: c.Id,
    Arn: c.Arn,
    OtherParticipantAccountId: c.OtherParticipantAccountId,
    UpdatedAt: c.UpdatedAt,
    ConnectionTypes: types,
  };
}

function participantIdsOf(c: ConnectionRecord): Set<string> {
  const ids = new Set([c.OtherParticipantAccountId]);
  for (const d of Object.values(c.ConnectionTypes)) {
    const p = d?.OtherParticipant;
    if (p && "PartnerProfile" in p) ids.add(p.PartnerProfile.Id);
    if (p && "SellerProfile" in p) ids.add(p.SellerProfile.Id);
  }
  return ids;
}

/**
 * The NextToken a page answers: the next page's, or, under the `repeatNextToken` switch, one that
 * never ends the listing (`same`: the token the page was asked for with; `wrap`: on the last page,
 * one back to the first, so every token comes again after a round).
 */
function nextTokenOf(
  op: string,
  input: Input,
  filter: string,
  next: number | undefined,
  repeat: "same" | "wrap" | undefined,
): string | undefined {
  if (repeat === "same" && typeof input.NextToken === "string") return input.NextToken;
  if (next !== undefined) return encodeNextToken(op, next, filter);
  return repeat === "wrap" ? encodeNextToken(op, 0, filter) : undefined;
}

export function listConnectionInvitations(
  store: EmulatorStore,
  input: Input,
  options: { repeatNextToken?: "same" | "wrap" } = {},
): ApiResponse {
  const op = "ListConnectionInvitations";
  const filter = filterKey(input, [
    "Catalog",
    "ConnectionType",
    "OtherParticipantIdentifiers",
    "ParticipantType",
    "Status",
  ]);
  const after = decodeNextToken(input.NextToken, op, filter);
  const ids = identifiersOf(input);
  const keep = (r: InvitationRecord): boolean =>
    (input.ConnectionType === undefined || r.ConnectionType === input.ConnectionType) &&
    (input.ParticipantType === undefined || r.ParticipantType === input.ParticipantType) &&
    (input.Status === undefined || r.Status === input.Status) &&
    (ids === undefined || ids.includes(r.OtherParticipantIdentifier));
  const limit = (input.MaxResults as number | undefined) ?? DEFAULT_MAX_RESULTS;
  const { page, after: next } = takePage(store.invitationsOf(input.Catalog as string, after, keep), limit);
  const token = nextTokenOf(op, input, filter, next, options.repeatNextToken);
  return ok({
    ConnectionInvitationSummaries: page.map(invitationSummary),
    ...(token !== undefined ? { NextToken: token } : {}),
  });
}

export function listConnections(
  store: EmulatorStore,
  input: Input,
  options: { activeOnly?: boolean; repeatNextToken?: "same" | "wrap" } = {},
): ApiResponse {
  const op = "ListConnections";
  const filter = filterKey(input, ["Catalog", "ConnectionType", "OtherParticipantIdentifiers"]);
  const after = decodeNextToken(input.NextToken, op, filter);
  const ids = identifiersOf(input);
  const [typeName, typeStatus] = typeof input.ConnectionType === "string" ? input.ConnectionType.split(":") : [];
  const keep = (c: ConnectionRecord): boolean => {
    if (options.activeOnly && !Object.values(c.ConnectionTypes).some((d) => d?.Status === "ACTIVE")) return false;
    if (typeName !== undefined) {
      const detail = (c.ConnectionTypes as Record<string, { Status: string } | undefined>)[typeName];
      if (!detail || (typeStatus !== undefined && detail.Status !== typeStatus.toUpperCase())) return false;
    }
    if (ids !== undefined) {
      const mine = participantIdsOf(c);
      if (!ids.some((id) => mine.has(id))) return false;
    }
    return true;
  };
  const limit = (input.MaxResults as number | undefined) ?? DEFAULT_MAX_RESULTS;
  const { page, after: next } = takePage(store.connectionsOf(input.Catalog as string, after, keep), limit);
  const token = nextTokenOf(op, input, filter, next, options.repeatNextToken);
  return ok({
    ConnectionSummaries: page.map(connectionSummary),
    ...(token !== undefined ? { NextToken: token } : {}),
  });
}
