import { z } from "zod";
import { catalogSchema, invitationIdSchema } from "./request-fields.js";
import { toFieldIssues, formatFieldIssues } from "./issues.js";

/**
 * The events AWS Partner Central publishes on Amazon EventBridge (source aws.partnercentral-account,
 * the default bus of us-east-1), as the developer guide's page "Notifications for the AWS Partner
 * Central Account API" documents them (../shared/reference/partnercentral-account-events.md).
 *
 * Read tolerantly: what the guide shows is checked where we act on it (the catalog, the invitation's
 * or connection's id), everything else is taken as it comes. Detail types and fields the guide does
 * not list are kept and named (`unknownFields`), so the caller can log them, never refused. The
 * quirks are mapped here, once: the event's connection type spelling (`OpportunityCollaboration`)
 * onto the API's enum (`OPPORTUNITY_COLLABORATION`), "Cancelled" onto the API's `CANCELED`.
 */
export const PARTNERCENTRAL_EVENT_SOURCE = "aws.partnercentral-account";

/** The six documented detail types, by what they mean to us. */
export const PARTNER_EVENT_DETAIL_TYPES = {
  received: "Partner Connection Invitation Received",
  accepted: "Partner Connection Invitation Accepted",
  rejected: "Partner Connection Invitation Rejected",
  canceled: "Partner Connection Invitation Cancelled",
  expired: "Partner Connection Invitation Expired",
  "connection-canceled": "Partner Connection Cancelled",
} as const;

export type PartnerEventKind = keyof typeof PARTNER_EVENT_DETAIL_TYPES | "unknown";

/** The API's ConnectionType enum. */
export const API_CONNECTION_TYPES = ["OPPORTUNITY_COLLABORATION", "SUBSIDIARY"] as const;

/**
 * The event spelling of each connection type. `OpportunityCollaboration` is the guide's; the guide
 * shows no subsidiary invitation, so `Subsidiary` is the same rule applied (and any spelling that
 * maps onto the enum by that rule is accepted: `SUBSIDIARY`, `opportunity-collaboration`).
 */
export const EVENT_CONNECTION_TYPES: Record<(typeof API_CONNECTION_TYPES)[number], string> = {
  OPPORTUNITY_COLLABORATION: "OpportunityCollaboration",
  SUBSIDIARY: "Subsidiary",
};

/**
 * The API's connection type for an event's spelling: camel case and dashes become the enum's
 * upper snake case. null when the result is not in the enum (a type AWS adds later).
 */
export function connectionTypeFromEvent(spelling: string): (typeof API_CONNECTION_TYPES)[number] | null {
  const upper = spelling
    .trim()
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .replace(/[-\s]+/g, "_")
    .toUpperCase();
  return (API_CONNECTION_TYPES as readonly string[]).includes(upper)
    ? (upper as (typeof API_CONNECTION_TYPES)[number])
    : null;
}

/** The detail type's kind; "Canceled" (one l) is read as "Cancelled", case and spacing are not forgiven. */
export function kindOfDetailType(detailType: string): PartnerEventKind {
  const spelled = detailType.replace(/Canceled$/, "Cancelled");
  for (const [kind, name] of Object.entries(PARTNER_EVENT_DETAIL_TYPES)) if (name === spelled) return kind as never;
  return "unknown";
}

const text = () => z.string({ error: "must be a string" });
const optionalText = () => text().optional();

/** The documented members of each object: anything else is an unknown field (kept, named). */
const ENVELOPE_FIELDS = ["version", "id", "detail-type", "source", "time", "region", "account", "resources", "detail"];
const DETAIL_FIELDS = ["catalog", "connectionInvitation", "connection"];
const INVITATION_FIELDS = [
  "arn",
  "id",
  "connectionType",
  "inviterEmail",
  "invitationMessage",
  "senderCompanyName",
  "senderProfileId",
  "receiverProfileId",
  "expiresAt",
];
const CONNECTION_FIELDS = [
  "arn",
  "id",
  "connectionType",
  "canceledBy",
  "Participant1AccountId",
  "Participant2AccountId",
  "status",
];

export const eventInvitationSchema = z.looseObject({
  arn: optionalText(),
  id: invitationIdSchema,
  connectionType: optionalText(),
  inviterEmail: optionalText(),
  invitationMessage: optionalText(),
  senderCompanyName: optionalText(),
  senderProfileId: optionalText(),
  receiverProfileId: optionalText(),
  expiresAt: optionalText(),
});

export const eventConnectionSchema = z.looseObject({
  arn: optionalText(),
  id: text().min(1, { error: "must not be empty" }),
  connectionType: optionalText(),
  canceledBy: optionalText(),
  Participant1AccountId: optionalText(),
  Participant2AccountId: optionalText(),
  status: optionalText(),
});

/** The envelope every event has (EventBridge's, with version "1"), its detail read per kind below. */
export const partnerEventEnvelopeSchema = z.looseObject({
  version: text(),
  id: text().min(1, { error: "must not be empty" }),
  "detail-type": text().min(1, { error: "must not be empty" }),
  source: z.literal(PARTNERCENTRAL_EVENT_SOURCE, { error: `must be "${PARTNERCENTRAL_EVENT_SOURCE}"` }),
  time: text(),
  region: optionalText(),
  account: optionalText(),
  resources: z.array(text(), { error: "must be a list of ARNs" }).optional(),
  detail: z.looseObject({ catalog: catalogSchema }, { error: "must be an object" }),
});

/** An event as AWS writes it (what the emulator emits and a test writes by hand). */
export type PartnerEventJson = z.input<typeof partnerEventEnvelopeSchema> & {
  detail: {
    catalog: string;
    connectionInvitation?: z.input<typeof eventInvitationSchema>;
    connection?: z.input<typeof eventConnectionSchema>;
  };
};

export type EventInvitation = z.infer<typeof eventInvitationSchema> & {
  /** The API's enum value for `connectionType`, null when it maps onto none (or is absent). */
  apiConnectionType: (typeof API_CONNECTION_TYPES)[number] | null;
};
export type EventConnection = z.infer<typeof eventConnectionSchema> & {
  apiConnectionType: (typeof API_CONNECTION_TYPES)[number] | null;
};

/** An event read: its kind, the envelope's facts, and the invitation or connection it is about. */
export interface PartnerEvent {
  kind: PartnerEventKind;
  eventId: string;
  detailType: string;
  version: string;
  time: string;
  account: string | null;
  catalog: string;
  invitation: EventInvitation | null;
  connection: EventConnection | null;
  /** Fields the guide does not document (`detail.connectionInvitation.foo`): kept, to be logged. */
  unknownFields: string[];
  /** The version is not the documented "1": read all the same, to be logged. */
  unexpectedVersion: boolean;
}

export type PartnerEventReading =
  | { ok: true; event: PartnerEvent }
  /** Not an event we can act on: `problem` names each field and its rule. */
  | { ok: false; problem: string };

/** The object each kind needs: an invitation's id, or (Partner Connection Cancelled) the connection's. */
const NEEDS: Record<PartnerEventKind, "connectionInvitation" | "connection" | null> = {
  received: "connectionInvitation",
  accepted: "connectionInvitation",
  rejected: "connectionInvitation",
  canceled: "connectionInvitation",
  expired: "connectionInvitation",
  "connection-canceled": "connection",
  unknown: null,
};

/**
 * Reads a queue message's body as an event. Never throws: a body that is not JSON, not an event of
 * aws.partnercentral-account, or lacks what its kind needs gives `{ ok: false, problem }`.
 */
export function readPartnerEvent(body: string): PartnerEventReading {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (err) {
    return { ok: false, problem: `(body): must be JSON (${(err as Error).message.split("\n")[0]})` };
  }
  return readPartnerEventValue(value);
}

/** As readPartnerEvent, for a value already parsed. */
export function readPartnerEventValue(value: unknown): PartnerEventReading {
  const envelope = partnerEventEnvelopeSchema.safeParse(value);
  if (!envelope.success) return { ok: false, problem: formatFieldIssues(toFieldIssues(envelope.error)) };
  const e = envelope.data;
  const kind = kindOfDetailType(e["detail-type"]);
  const detail = e.detail as Record<string, unknown>;
  const unknownFields = [...extraKeys(e, ENVELOPE_FIELDS, ""), ...extraKeys(detail, DETAIL_FIELDS, "detail.")];
  let invitation: EventInvitation | null = null;
  let connection: EventConnection | null = null;
  const need = NEEDS[kind];
  if (detail.connectionInvitation !== undefined || need === "connectionInvitation") {
    const r = eventInvitationSchema.safeParse(detail.connectionInvitation);
    if (r.success) {
      invitation = { ...r.data, apiConnectionType: mapType(r.data.connectionType) };
      unknownFields.push(...extraKeys(r.data, INVITATION_FIELDS, "detail.connectionInvitation."));
    } else if (need === "connectionInvitation")
      return { ok: false, problem: issues(r.error, "detail.connectionInvitation") };
  }
  if (detail.connection !== undefined || need === "connection") {
    const r = eventConnectionSchema.safeParse(detail.connection);
    if (r.success) {
      connection = { ...r.data, apiConnectionType: mapType(r.data.connectionType) };
      unknownFields.push(...extraKeys(r.data, CONNECTION_FIELDS, "detail.connection."));
    } else if (need === "connection") return { ok: false, problem: issues(r.error, "detail.connection") };
  }
  return {
    ok: true,
    event: {
      kind,
      eventId: e.id,
      detailType: e["detail-type"],
      version: e.version,
      time: e.time,
      account: e.account ?? null,
      catalog: e.detail.catalog,
      invitation,
      connection,
      unknownFields,
      unexpectedVersion: e.version !== "1",
    },
  };
}

function mapType(spelling: string | undefined): (typeof API_CONNECTION_TYPES)[number] | null {
  return spelling === undefined ? null : connectionTypeFromEvent(spelling);
}

function extraKeys(object: object, known: readonly string[], prefix: string): string[] {
  return Object.keys(object)
    .filter((k) => !known.includes(k))
    .map((k) => `${prefix}${k}`);
}

function issues(error: z.ZodError, at: string): string {
  return toFieldIssues(error)
    .map(
      (i) =>
        `${i.field === "(root)" ? at : `${at}.${i.field}`}: ${i.field === "(root)" ? "must be an object" : i.rule}`,
    )
    .join("; ");
}
