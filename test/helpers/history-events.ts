import type { LogEvent } from "../../src/store/outcome-log.js";

/** An accepted outcome event, as the workers publish it (the fields the history reads). */
export function accepted(n: number, extra: Record<string, unknown> = {}): LogEvent {
  const id = `pacinv-${String(n).padStart(13, "0")}`;
  return {
    schemaVersion: 1,
    eventId: `evt-${n}`,
    requestId: `AWS.${id}.r${n}`,
    action: "accept",
    correlationId: null,
    metadata: null,
    catalog: "AWS",
    identifier: id,
    clientToken: `tok${n}`,
    attempts: 1,
    enqueuedAt: "2026-12-01T10:00:00.000Z",
    completedAt: new Date(Date.UTC(2026, 11, 1, 10, 0, 0, n)).toISOString(),
    type: "accepted",
    alreadyAccepted: false,
    connection: {
      Id: `pac-${String(n).padStart(13, "0")}`,
      Catalog: "AWS",
      OtherParticipantAccountId: `1234567890${n % 10}${n % 10}`,
      ConnectionTypes: {},
    },
    awsRequestId: `req-${n}`,
    ...extra,
  };
}
