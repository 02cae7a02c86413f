/**
 * The events AWS Partner Central publishes on EventBridge, emitted by the emulator when its
 * invitations change, in the documented shapes (../shared/reference/partnercentral-account-events.md:
 * version "1", the event spelling of the connection type, "Cancelled" with two l's), and sent to an
 * SQS queue as an EventBridge rule with an SQS target would deliver them (the event JSON as the
 * message body). So the demo and the tests run the whole path, event → queue → ingest, locally.
 *
 * The queue is spoken to on its own wire (the JSON protocol of SQS, `AmazonSQS.SendMessage`, signed
 * with SigV4 by sigv4.ts, with test credentials unless given others): it is meant for a local
 * SQS-compatible server (moto_server), never AWS. Sends go out in
 * order, one at a time; one that fails (the server is down) is counted and dropped, as EventBridge
 * gives up on a target after its retries (polling discovery is the backstop).
 */
import { randomUUID } from "node:crypto";
import {
  EVENT_CONNECTION_TYPES,
  PARTNER_EVENT_DETAIL_TYPES,
  PARTNERCENTRAL_EVENT_SOURCE,
  type PartnerEventJson,
} from "../schemas/partnercentral-events.js";
import type { ConnectionRecord, InvitationRecord, Participant } from "./types.js";
import { signedJsonHeaders, type SigningCredentials } from "./sigv4.js";

/** A change of an invitation the emulator holds, as the events need it. */
export interface InvitationChange {
  to: "PENDING" | "ACCEPTED" | "REJECTED" | "CANCELED" | "EXPIRED";
  invitation: InvitationRecord;
  connection?: ConnectionRecord;
  /** The other participant of the invitation (its account id, and its profile). */
  otherAccountId: string;
  otherParticipant: Participant;
}

/** The event of a change, as AWS would publish it to the emulated caller's account `account`. */
export function eventOfChange(change: InvitationChange, account: string, now = new Date()): PartnerEventJson {
  const inv = change.invitation;
  const connectionType =
    EVENT_CONNECTION_TYPES[inv.ConnectionType as keyof typeof EVENT_CONNECTION_TYPES] ?? inv.ConnectionType;
  const base = { arn: inv.Arn, id: inv.Id, connectionType };
  const other = profileOf(change.otherParticipant) ?? change.otherAccountId;
  // Who sent it: the other participant for an invitation we received, us for one we sent.
  const received = inv.ParticipantType !== "SENDER";
  const senderProfileId = received ? other : `pprofile-emulatedself0`;
  const receiverProfileId = received ? `pprofile-emulatedself0` : other;
  const envelope = (detailType: string, resources: string[], detail: PartnerEventJson["detail"]) => ({
    version: "1",
    id: randomUUID(),
    "detail-type": detailType,
    source: PARTNERCENTRAL_EVENT_SOURCE as typeof PARTNERCENTRAL_EVENT_SOURCE,
    time: now.toISOString(),
    region: "us-east-1",
    account,
    resources,
    detail,
  });
  switch (change.to) {
    case "PENDING":
      return envelope(PARTNER_EVENT_DETAIL_TYPES.received, [inv.Arn], {
        catalog: inv.Catalog,
        connectionInvitation: {
          ...base,
          inviterEmail: inv.InviterEmail,
          invitationMessage: inv.InvitationMessage,
          senderCompanyName: nameOf(change.otherParticipant),
          senderProfileId,
          ...(inv.ExpiresAt ? { expiresAt: inv.ExpiresAt } : {}),
        },
      });
    case "ACCEPTED": {
      const c = change.connection;
      return envelope(PARTNER_EVENT_DETAIL_TYPES.accepted, c ? [inv.Arn, c.Arn] : [inv.Arn], {
        catalog: inv.Catalog,
        connectionInvitation: base,
        ...(c
          ? {
              connection: {
                arn: c.Arn,
                id: c.Id,
                Participant1AccountId: change.otherAccountId,
                Participant2AccountId: account,
                status: "ACTIVE",
              },
            }
          : {}),
      });
    }
    case "REJECTED":
      return envelope(PARTNER_EVENT_DETAIL_TYPES.rejected, [inv.Arn], {
        catalog: inv.Catalog,
        connectionInvitation: { ...base, invitationMessage: inv.InvitationMessage, receiverProfileId },
      });
    case "CANCELED":
      return envelope(PARTNER_EVENT_DETAIL_TYPES.canceled, [inv.Arn], {
        catalog: inv.Catalog,
        connectionInvitation: { ...base, invitationMessage: inv.InvitationMessage, senderProfileId },
      });
    case "EXPIRED": {
      // The guide's Expired example has no `account`.
      const { account: _omitted, ...rest } = envelope(PARTNER_EVENT_DETAIL_TYPES.expired, [inv.Arn], {
        catalog: inv.Catalog,
        connectionInvitation: {
          ...base,
          inviterEmail: inv.InviterEmail,
          invitationMessage: inv.InvitationMessage,
          senderProfileId,
          receiverProfileId,
        },
      });
      return rest;
    }
  }
}

function profileOf(p: Participant): string | undefined {
  if ("PartnerProfile" in p) return p.PartnerProfile.Id;
  if ("SellerProfile" in p) return p.SellerProfile.Id;
  return undefined;
}

function nameOf(p: Participant): string {
  if ("PartnerProfile" in p) return p.PartnerProfile.Name;
  if ("SellerProfile" in p) return p.SellerProfile.Name;
  return p.Account.Name;
}

/** Where the emulator's events go, and how that went. */
export interface EventSinkStatus {
  queueUrl: string | null;
  sent: number;
  failed: number;
  /** The last failure's message, if any. */
  lastError: string | null;
}

/** Sends events to an SQS queue, in order, one at a time (see the top of this file). */
export class SqsEventSink {
  private chain: Promise<void> = Promise.resolve();
  private readonly state: EventSinkStatus;
  /** Every event emitted (sent or not), for the control plane. Bounded: the last 10,000. */
  readonly emitted: PartnerEventJson[] = [];

  constructor(
    queueUrl: string | null,
    private readonly credentials: SigningCredentials = { accessKeyId: "AKIDEMULATOR", secretAccessKey: "emulator" },
    private readonly timeoutMs = 5000,
  ) {
    this.state = { queueUrl, sent: 0, failed: 0, lastError: null };
  }

  get status(): EventSinkStatus {
    return { ...this.state };
  }

  setQueueUrl(queueUrl: string | null): void {
    this.state.queueUrl = queueUrl;
  }

  emit(event: PartnerEventJson): void {
    this.emitted.push(event);
    if (this.emitted.length > 10_000) this.emitted.shift();
    const queueUrl = this.state.queueUrl;
    if (!queueUrl) return;
    this.chain = this.chain.then(() => this.send(queueUrl, event));
  }

  /** Resolves when every event emitted so far was sent (or failed). */
  flush(): Promise<void> {
    return this.chain;
  }

  private async send(queueUrl: string, event: PartnerEventJson): Promise<void> {
    try {
      const url = new URL(new URL(queueUrl).origin);
      const body = JSON.stringify({ QueueUrl: queueUrl, MessageBody: JSON.stringify(event) });
      const res = await fetch(url, {
        method: "POST",
        headers: signedJsonHeaders({
          url,
          service: "sqs",
          region: "us-east-1",
          target: "AmazonSQS.SendMessage",
          contentType: "application/x-amz-json-1.0",
          body,
          credentials: this.credentials,
        }),
        body,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      const text = await res.text();
      if (!res.ok) throw new Error(`SendMessage answered ${res.status}: ${text.slice(0, 200)}`);
      this.state.sent++;
    } catch (err) {
      this.state.failed++;
      this.state.lastError = err instanceof Error ? err.message : String(err);
    }
  }
}
