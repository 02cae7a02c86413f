import { eventNoticeId, NOTICE_SCHEMA_VERSION, type Notice } from "../contracts/notice.js";
import type { Logger } from "../observability/logger.js";
import type { EventHistory } from "../producer/ingest-event.js";

/**
 * The intake's history (src/producer/ingest-event.ts EventHistory): the events the history and the
 * drift report must hold are published as notices on the outcome log, once per EventBridge event
 * (the store's publishNotice claims the eventId), so `deliver`'s history sink records them:
 *   Accepted that closed a held invitation -> invitation.accepted-elsewhere;
 *   Partner Connection Cancelled           -> connection.canceled.
 * Other events are only logged. Throws when Redis fails: the message stays on the queue and comes back.
 */
export function noticedHistory(
  store: { publishNotice(notice: Notice): Promise<"published" | "already-sent"> },
  logger: Logger,
  policyHash: string,
  now: () => Date = () => new Date(),
): EventHistory {
  return {
    async note(event, handling) {
      let notice: Notice | undefined;
      if (event.kind === "accepted" && handling.closedHeld === true && event.invitation) {
        notice = {
          schemaVersion: NOTICE_SCHEMA_VERSION,
          eventId: eventNoticeId("invitation.accepted-elsewhere", event.eventId),
          type: "invitation.accepted-elsewhere",
          catalog: event.catalog,
          identifier: event.invitation.id,
          otherParticipant: event.invitation.senderProfileId ?? null,
          connectionType: event.invitation.apiConnectionType ?? event.invitation.connectionType ?? null,
          expiresAt: null,
          rule: null,
          policyHash,
          at: now().toISOString(),
          connectionId: stringField(event.invitation, "connectionId"),
          sourceEventId: event.eventId,
        };
      } else if (event.kind === "connection-canceled" && event.connection) {
        const c = event.connection;
        const ours = event.account ?? null;
        const participants = [c.Participant1AccountId, c.Participant2AccountId].filter(
          (p): p is string => typeof p === "string" && p.length > 0,
        );
        const other = participants.find((p) => p !== ours) ?? c.canceledBy ?? null;
        notice = {
          schemaVersion: NOTICE_SCHEMA_VERSION,
          eventId: eventNoticeId("connection.canceled", event.eventId),
          type: "connection.canceled",
          catalog: event.catalog,
          identifier: "",
          otherParticipant: other,
          connectionType: c.apiConnectionType ?? c.connectionType ?? null,
          expiresAt: null,
          rule: null,
          policyHash,
          at: now().toISOString(),
          connectionId: c.id,
          canceledBy: c.canceledBy ?? null,
          sourceEventId: event.eventId,
        };
      }
      if (!notice) {
        logger.debug({ eventId: event.eventId, kind: event.kind, result: handling.result }, "ingest.noted");
        return;
      }
      const published = await store.publishNotice(notice);
      logger.info(
        { eventId: event.eventId, notice: notice.type, connectionId: notice.connectionId, published },
        "ingest.noted on the outcome log (history and drift report)",
      );
    },
  };
}

function stringField(value: object, field: string): string | null {
  const v = (value as Record<string, unknown>)[field];
  return typeof v === "string" && v.length > 0 ? v : null;
}
