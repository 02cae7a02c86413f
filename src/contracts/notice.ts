import { z } from "zod";

/**
 * Notices: what pc-invitations tells people about a held invitation (src/app/held.ts), published
 * on the outcomes queue beside the outcome events (the same channel consumers read:
 * consumeOutcomes hands both to its handler), each once:
 *   invitation.held      an invitation was held for the first time (it waits for a person);
 *   invitation.expiring  a held invitation is within HELD_EXPIRY_NOTICE of its ExpiresAt.
 * `eventId` is stable per notice (`notice:held:<catalog>.<identifier>`,
 * `notice:expiring:<catalog>.<identifier>`): a consumer that sees one twice (a redelivery)
 * dedupes on it, as on an outcome's. Consumers ignore fields and `type`s they do not know.
 *
 * Two more, from the event intake (src/app/ingest.ts, docs/events.md), so the history and the
 * drift report hold what AWS's events said (docs/history.md):
 *   invitation.accepted-elsewhere  a held invitation was accepted outside the desk (it was closed);
 *   connection.canceled            the other participant canceled a connection.
 * Their `eventId` is `notice:<kind>:<EventBridge event id>` (eventNoticeId): a repeated event is
 * one notice. `connectionId` and `canceledBy` say which connection and who canceled it.
 */
export const NOTICE_SCHEMA_VERSION = 1;

export const NOTICE_TYPES = [
  "invitation.held",
  "invitation.expiring",
  "invitation.accepted-elsewhere",
  "connection.canceled",
] as const;
export type NoticeType = (typeof NOTICE_TYPES)[number];

export const noticeSchema = z.looseObject({
  schemaVersion: z.literal(NOTICE_SCHEMA_VERSION),
  /** Stable per notice: `notice:held:<catalog>.<identifier>` or `notice:expiring:<catalog>.<identifier>`. */
  eventId: z.string().min(1),
  type: z.enum(NOTICE_TYPES),
  catalog: z.string(),
  identifier: z.string(),
  /** The other participant (an account id or profile id), when AWS said. */
  otherParticipant: z.string().nullable(),
  /** OPPORTUNITY_COLLABORATION, SUBSIDIARY, or a value AWS adds later, when AWS said. */
  connectionType: z.string().nullable().optional(),
  /** The invitation's ExpiresAt (ISO-8601), when AWS said. */
  expiresAt: z.iso.datetime({ offset: true }).nullable(),
  /** Index of the policy rule that held it; null: the policy's default. */
  rule: z.number().int().nonnegative().nullable(),
  /** The policy that held it (src/producer/discovery-policy.ts policyHash). */
  policyHash: z.string(),
  /** When the notice was made (ISO-8601). */
  at: z.iso.datetime(),
  /** The connection concerned (accepted-elsewhere, connection.canceled), when AWS said. */
  connectionId: z.string().nullable().optional(),
  /** connection.canceled: the account that canceled it, when AWS said. */
  canceledBy: z.string().nullable().optional(),
  /** The EventBridge event the notice comes from (accepted-elsewhere, connection.canceled). */
  sourceEventId: z.string().optional(),
});

export type Notice = z.infer<typeof noticeSchema>;

const KIND: Record<NoticeType, string> = {
  "invitation.held": "held",
  "invitation.expiring": "expiring",
  "invitation.accepted-elsewhere": "accepted-elsewhere",
  "connection.canceled": "connection-canceled",
};

/** The eventId (and job id on the outcomes queue) of an invitation's notice of `type`. */
export function noticeEventId(type: NoticeType, catalog: string, identifier: string): string {
  return `notice:${KIND[type]}:${catalog}.${identifier}`;
}

/** True for a value that says it is a notice (its `type`), whether or not the rest is right. */
export function looksLikeNotice(value: unknown): boolean {
  const type = (value as { type?: unknown } | null)?.type;
  return typeof type === "string" && (NOTICE_TYPES as readonly string[]).includes(type);
}

/** The eventId of a notice made from an EventBridge event (one per event, however often it comes). */
export function eventNoticeId(
  type: "invitation.accepted-elsewhere" | "connection.canceled",
  eventBridgeId: string,
): string {
  return `notice:${KIND[type]}:${eventBridgeId}`;
}
