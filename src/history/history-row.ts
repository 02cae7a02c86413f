import type { ChainedRow } from "./chain.js";

/**
 * An event as the history takes it: an outcome event or a notice (anything with an `eventId` and a
 * `type`), from the outcome log. Other fields are read where they are known (below) and kept whole
 * in `body`.
 */
export type HistoryInput = Readonly<Record<string, unknown>> & { readonly eventId: string; readonly type: string };

/** True for a value the history can record: an object with a non-empty string `eventId` and `type`. */
export function isHistoryInput(value: unknown): value is HistoryInput {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const { eventId, type } = value as { eventId?: unknown; type?: unknown };
  return typeof eventId === "string" && eventId.length > 0 && typeof type === "string" && type.length > 0;
}

const str = (value: unknown): string | null => (typeof value === "string" && value.length > 0 ? value : null);
const obj = (value: unknown): Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};

/** An ISO-8601 time with milliseconds, or null when `value` is not a time. */
export function isoMillis(value: unknown): string | null {
  if (typeof value !== "string" && !(value instanceof Date)) return null;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

/**
 * The columns of a history row read from an event (all but seq, recordedAt and the hashes):
 * - partner: the accepted connection's OtherParticipantAccountId, the rejected invitation's
 *   OtherParticipantIdentifier, or a notice's otherParticipant;
 * - connectionId: the connection's Id, the invitation's ConnectionId, or a notice's connectionId;
 * - decision: who decided a held invitation (`decidedBy`), the rule and policy that held it
 *   (`heldBy: { rule, policyHash }` on an outcome, `rule` and `policyHash` on a notice);
 * - awsRequestId: the successful call's, or the failure's (`error.awsRequestId`);
 * - occurredAt: `completedAt` of an outcome, `at` of a notice, else when it was recorded.
 */
export function historyColumns(
  event: HistoryInput,
  recordedAt: string,
): Omit<ChainedRow, "seq" | "recordedAt" | "body"> {
  const connection = obj(event.connection);
  const invitation = obj(event.invitation);
  const heldBy = obj(event.heldBy);
  const error = obj(event.error);
  const rule = heldBy.rule ?? event.rule ?? event.policyRule;
  return {
    eventId: event.eventId,
    type: event.type,
    requestId: str(event.requestId),
    catalog: str(event.catalog),
    identifier: str(event.identifier),
    partner:
      str(connection.OtherParticipantAccountId) ??
      str(invitation.OtherParticipantIdentifier) ??
      str(event.otherParticipant) ??
      str(event.partner),
    connectionId: str(connection.Id) ?? str(invitation.ConnectionId) ?? str(event.connectionId),
    action: str(event.action),
    decidedBy: str(event.decidedBy),
    policyRule: typeof rule === "number" && Number.isSafeInteger(rule) ? rule : null,
    policyHash: str(heldBy.policyHash) ?? str(event.policyHash),
    awsRequestId: str(event.awsRequestId) ?? str(error.awsRequestId),
    occurredAt: isoMillis(event.completedAt) ?? isoMillis(event.at) ?? recordedAt,
  };
}
