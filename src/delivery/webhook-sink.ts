import type { LoggedEvent } from "../store/outcome-log.js";
import type { FanOutItem, WebhookEndpoint, WebhookStore } from "../store/webhook-store.js";
import type { EventSink } from "./event-sink.js";

/** Whether an endpoint takes an event: enabled, added before it was logged, its types and catalog. */
export function endpointMatches(endpoint: WebhookEndpoint, entry: LoggedEvent): boolean {
  if (!endpoint.enabled) return false;
  if (cursorMs(entry.cursor) < Date.parse(endpoint.createdAt)) return false;
  if (endpoint.events.length > 0 && !endpoint.events.includes(entry.event.type)) return false;
  if (endpoint.catalog !== null && entry.event.catalog !== endpoint.catalog) return false;
  return true;
}

/** The invitation an event is about: the unit of order of its deliveries. */
export function orderKeyOf(event: LoggedEvent["event"]): string {
  if (event.identifier) return `${event.catalog ?? ""}.${event.identifier}`;
  return event.requestId ?? event.eventId;
}

function cursorMs(cursor: string): number {
  return Number(cursor.split("-")[0]);
}

/** The deliveries of a batch of logged events to the endpoints that match each. */
export function fanOutItems(
  entries: readonly LoggedEvent[],
  endpoints: readonly WebhookEndpoint[],
  only?: (endpoint: WebhookEndpoint) => boolean,
): FanOutItem[] {
  const items: FanOutItem[] = [];
  for (const entry of entries) {
    for (const endpoint of endpoints) {
      if (only && !only(endpoint)) continue;
      if (!endpointMatches(endpoint, entry)) continue;
      items.push({
        endpointId: endpoint.id,
        orderKey: orderKeyOf(entry.event),
        item: {
          eventId: entry.event.eventId,
          cursor: entry.cursor,
          kind: entry.kind,
          attempts: 0,
          firstFailureAt: null,
          event: entry.event,
        },
      });
    }
  }
  return items;
}

/**
 * The webhooks' sink: fans each event of the outcome log out to the endpoints that take it
 * (one delivery per endpoint and event id, queued per invitation, store/webhook-store.ts). It
 * runs under runSink (one holder at a time, in log order, at least once), so an invitation's
 * events are queued for each endpoint in the order they were published.
 */
export function webhookSink(store: WebhookStore, hooks: { onFannedOut?(count: number): void } = {}): EventSink {
  return {
    name: "webhooks",
    async handle(events) {
      const endpoints = await store.endpoints();
      if (endpoints.length === 0) return;
      const queued = await store.fanOut(fanOutItems(events, endpoints));
      hooks.onFannedOut?.(queued);
    },
  };
}
