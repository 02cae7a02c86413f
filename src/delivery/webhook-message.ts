import type { WebhookFormat } from "../store/webhook-store.js";
import { signatureHeader } from "./sign.js";

/** The CloudEvents `type` of an event of ours: `com.pc-invitations.<kind>.<type>`. */
export function cloudEventType(kind: string, type: string): string {
  return `com.pc-invitations.${kind}.${type}`;
}

/**
 * The body of a delivery: the event as published, or (format `cloudevents`) a CloudEvents 1.0
 * structured event around it (`id` = the event id, `source` = the deployment's queue prefix,
 * `subject` = the request id, `time` = when it completed or was noticed, `data` = the event).
 */
export function webhookBody(
  event: Record<string, unknown> & { type: string; eventId: string },
  format: WebhookFormat,
  source: string,
  kind = "outcome",
): { body: string; contentType: string } {
  if (format === "standard") return { body: JSON.stringify(event), contentType: "application/json" };
  const time =
    typeof event.completedAt === "string" ? event.completedAt : typeof event.at === "string" ? event.at : null;
  const cloudEvent = {
    specversion: "1.0",
    id: event.eventId,
    source,
    type: cloudEventType(kind, event.type),
    ...(typeof event.requestId === "string" ? { subject: event.requestId } : {}),
    ...(time ? { time } : {}),
    datacontenttype: "application/json",
    data: event,
  };
  return { body: JSON.stringify(cloudEvent), contentType: "application/cloudevents+json" };
}

/** The Standard Webhooks headers of a delivery (webhook-id = the event id). */
export function webhookHeaders(
  eventId: string,
  body: string,
  contentType: string,
  secrets: readonly string[],
  nowMs = Date.now(),
): Record<string, string> {
  const timestamp = Math.floor(nowMs / 1000);
  return {
    "content-type": contentType,
    "user-agent": "pc-invitations-webhooks/1",
    "webhook-id": eventId,
    "webhook-timestamp": String(timestamp),
    "webhook-signature": signatureHeader(secrets, eventId, timestamp, body),
  };
}
