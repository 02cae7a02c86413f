import { randomUUID } from "node:crypto";
import type { PartnerEventJson } from "../../src/schemas/partnercentral-events.js";

/**
 * Events in the shapes the developer guide documents (../shared/reference/partnercentral-account-events.md),
 * written by hand, independent of the emulator's emitter: version "1", the event spelling of the
 * connection type, "Cancelled".
 */
const envelope = (detailType: string, resources: string[], detail: PartnerEventJson["detail"]) => ({
  version: "1",
  id: randomUUID(),
  "detail-type": detailType,
  source: "aws.partnercentral-account",
  time: new Date().toISOString(),
  region: "us-east-1",
  account: "111122223333",
  resources,
  detail,
});
const arn = (catalog: string, id: string) =>
  `arn:aws:partnercentral:us-east-1::catalog/${catalog}/connection-invitation/${id}`;

export function receivedEvent(
  id: string,
  o: {
    catalog?: string;
    sender?: string;
    email?: string;
    connectionType?: string;
    extra?: Record<string, unknown>;
  } = {},
) {
  const catalog = o.catalog ?? "AWS";
  return envelope("Partner Connection Invitation Received", [arn(catalog, id)], {
    catalog,
    connectionInvitation: {
      arn: arn(catalog, id),
      id,
      connectionType: o.connectionType ?? "OpportunityCollaboration",
      inviterEmail: o.email ?? "abc@def.com",
      invitationMessage: "Let's work together",
      senderCompanyName: "Sender Inc.",
      senderProfileId: o.sender ?? "pprofile-SENDER0000001",
      expiresAt: new Date(Date.now() + 14 * 86_400_000).toISOString(),
      ...o.extra,
    },
  });
}

export function canceledEvent(id: string, catalog = "AWS") {
  return envelope("Partner Connection Invitation Cancelled", [arn(catalog, id)], {
    catalog,
    connectionInvitation: {
      arn: arn(catalog, id),
      id,
      connectionType: "OpportunityCollaboration",
      invitationMessage: "Let's work together",
      senderProfileId: "pprofile-SENDER0000001",
    },
  });
}

export function expiredEvent(id: string, catalog = "AWS") {
  const { account: _none, ...e } = envelope("Partner Connection Invitation Expired", [arn(catalog, id)], {
    catalog,
    connectionInvitation: {
      arn: arn(catalog, id),
      id,
      connectionType: "OpportunityCollaboration",
      inviterEmail: "abc@def.com",
      invitationMessage: "Let's work together",
      senderProfileId: "pprofile-SENDER0000001",
      receiverProfileId: "pprofile-RECEIVER00001",
    },
  });
  return e;
}

export function acceptedEvent(id: string, catalog = "AWS") {
  const conn = `arn:aws:partnercentral:us-east-1::catalog/${catalog}/connection/pac-ABCDEFGHIJKLM`;
  return envelope("Partner Connection Invitation Accepted", [arn(catalog, id), conn], {
    catalog,
    connectionInvitation: { arn: arn(catalog, id), id, connectionType: "OpportunityCollaboration" },
    connection: {
      arn: conn,
      id: "pac-ABCDEFGHIJKLM",
      Participant1AccountId: "444455556666",
      Participant2AccountId: "111122223333",
      status: "ACTIVE",
    },
  });
}

export function connectionCanceledEvent(connectionId: string, catalog = "AWS") {
  const conn = `arn:aws:partnercentral:us-east-1::catalog/${catalog}/connection/${connectionId}`;
  return envelope("Partner Connection Cancelled", [conn], {
    catalog,
    connection: { arn: conn, id: connectionId, connectionType: "OpportunityCollaboration", canceledBy: "444455556666" },
  });
}

/** A fresh invitation id in the API's shape. */
export function invitationId(): string {
  const a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  let s = "pacinv-";
  for (let i = 0; i < 13; i++) s += a[Math.floor(Math.random() * a.length)];
  return s;
}
