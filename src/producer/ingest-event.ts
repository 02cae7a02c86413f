import type { CanceledOutcome } from "../contracts/outcome.js";
import { RequestNotCancelableError, RequestNotFoundError } from "../errors/index.js";
import type { ReservationPreview } from "../request-record/record.js";
import type { DiscoveryPolicy, PolicyDecision } from "../schemas/policy.js";
import type { PartnerEvent } from "../schemas/partnercentral-events.js";
import { REJECT_REASON_MAX_LENGTH } from "../schemas/request-fields.js";
import type { InvitationEnds } from "../store/invitation-ends.js";
import { applyPolicy } from "./discovery-policy.js";
import { enqueueEach } from "./enqueue-each.js";
import type { EnqueueResult } from "./producer.js";

/**
 * What the event intake does with one Partner Central event (`pc-invitations ingest`): pure
 * orchestration over ports, so the same decisions run on Redis (the command) and in memory (unit
 * tests).
 *
 * - Received: the policy decides, with what the event carries (the sender's profile id as the
 *   other participant, the connection type mapped onto the API's enum, the inviter's e-mail for the
 *   e-mail rules: no extra read); an accept or reject is enqueued under the invitation's default
 *   idempotency key `<catalog>.<identifier>`, so a repeated event (or discovery's request for the
 *   same invitation) is a duplicate, never a second request; a hold is recorded for a person.
 * - Cancelled, Expired: the invitation's end is remembered (invitation-ends.ts); a request for it
 *   that has not started ends `canceled` with the reason (cancelRequest: published unless a run
 *   holds it), under the default key and under keys of their own (openRequestsOf, bounded); a held
 *   invitation is closed.
 * - Accepted (done elsewhere, e.g. in the console): a held invitation is closed; the history notes it.
 * - Rejected (we sent it), Partner Connection Cancelled, unknown kinds: noted in the history.
 *
 * Order is not assumed: a Received handled after its Cancelled enqueues nothing, and one handled at
 * the same time as its Cancelled (another process) is canceled by whichever of the two sees the
 * other's write (each writes, then reads the other's).
 */
export interface IngestPorts {
  policy: DiscoveryPolicy;
  enqueueMany(requests: readonly unknown[]): Promise<EnqueueResult[]>;
  preview(requests: readonly unknown[]): Promise<ReservationPreview[]>;
  /** cancelRequest bound to the store and the API's look-ups. */
  cancel(requestId: string, options: { reason: string }): Promise<CanceledOutcome>;
  /**
   * The requests of the invitation that no run has taken (waiting, delayed, prioritized), whatever
   * their idempotency key, from the store's index of the invitation's requests; bounded (the first
   * page of the index). Unset: only the default key is looked up.
   */
  openRequestsOf?(catalog: string, identifier: string): Promise<string[]>;
  ends: InvitationEnds;
  /** How long an end is remembered, s (the idempotency retention: a later request is a new one anyway). */
  endsTtlSeconds: number;
  held: HeldInvitations;
  history: EventHistory;
}

/** Invitations held for a person (the held-decisions store). */
export interface HeldInvitations {
  hold(invitation: HeldInvitation): Promise<void>;
  /** Closes a held invitation (it ended, or was decided elsewhere); false when none was held. */
  close(
    catalog: string,
    identifier: string,
    how: { status: string; eventId: string; reason: string },
  ): Promise<boolean>;
}

export interface HeldInvitation {
  catalog: string;
  identifier: string;
  otherParticipantIdentifier: string | null;
  connectionType: string | null;
  inviterEmail: string | null;
  senderCompanyName: string | null;
  expiresAt: string | null;
  /** Index of the rule that held it, null for the policy's default. */
  rule: number | null;
  eventId: string;
}

/** Where events are kept for the history and the drift report. */
export interface EventHistory {
  note(event: PartnerEvent, handling: EventHandling): Promise<void>;
}

export type EventResult =
  /** Received: a new request. */
  | "enqueued"
  /** Received: the invitation's request existed (a repeated event, or discovery was first). */
  | "duplicate"
  /** Received: its key holds a request with another payload (another action or reason). */
  | "conflict"
  | "held"
  /** Received for an invitation already known to have ended: nothing enqueued. */
  | "ended-before"
  /** Cancelled/Expired: its request ended `canceled`. */
  | "canceled"
  /** Cancelled/Expired: its request is running or finished (its run reconciles with AWS). */
  | "not-cancelable"
  /** Cancelled/Expired/Accepted: a held invitation was closed. */
  | "closed"
  /** Nothing to act on (no request, nothing held): the event is noted. */
  | "noted";

export interface EventHandling {
  result: EventResult;
  decision?: PolicyDecision;
  rule?: number | null;
  /** The request concerned (new, existing, canceled, or the one that holds the key). */
  jobId?: string;
  /** Whether a held invitation was closed (Cancelled, Expired, Accepted). */
  closedHeld?: boolean;
  /** conflict: the fields that differ. */
  differences?: string[];
  /** Cancelled/Expired: how many requests under other idempotency keys ended `canceled`. */
  otherRequestsCanceled?: number;
}

/** Handles one event. Throws when a store or the API fails: the message stays on the queue and comes back. */
export async function handleEvent(ports: IngestPorts, event: PartnerEvent): Promise<EventHandling> {
  const handling = await decide(ports, event);
  await ports.history.note(event, handling);
  return handling;
}

async function decide(ports: IngestPorts, event: PartnerEvent): Promise<EventHandling> {
  const inv = event.invitation;
  switch (event.kind) {
    case "received":
      return received(ports, event);
    case "canceled":
    case "expired":
      return ended(ports, event, event.kind === "canceled" ? "CANCELED" : "EXPIRED");
    case "accepted": {
      const closed = await ports.held.close(event.catalog, inv!.id, {
        status: "ACCEPTED",
        eventId: event.eventId,
        reason: "accepted elsewhere (Partner Connection Invitation Accepted)",
      });
      return { result: closed ? "closed" : "noted", closedHeld: closed };
    }
    default:
      return { result: "noted" };
  }
}

async function received(ports: IngestPorts, event: PartnerEvent): Promise<EventHandling> {
  const inv = event.invitation!;
  const { catalog } = event;
  if (await ports.ends.read(catalog, inv.id)) return { result: "ended-before" };
  const verdict = await applyPolicy(
    ports.policy,
    {
      catalog,
      identifier: inv.id,
      status: "PENDING",
      connectionType: inv.apiConnectionType ?? inv.connectionType ?? null,
      participantType: "RECEIVER",
      otherParticipantIdentifier: inv.senderProfileId ?? null,
      createdAt: event.time,
      expiresAt: inv.expiresAt ?? null,
    },
    async () => inv.inviterEmail ?? null,
  );
  const decided = { decision: verdict.decision, rule: verdict.rule };
  if (verdict.decision === "hold") {
    await ports.held.hold({
      catalog,
      identifier: inv.id,
      otherParticipantIdentifier: inv.senderProfileId ?? null,
      connectionType: inv.apiConnectionType ?? inv.connectionType ?? null,
      inviterEmail: inv.inviterEmail ?? null,
      senderCompanyName: inv.senderCompanyName ?? null,
      expiresAt: inv.expiresAt ?? null,
      rule: verdict.rule,
      eventId: event.eventId,
    });
    // The invitation's end may have been handled meanwhile, before the hold was there to close.
    const end = await ports.ends.read(catalog, inv.id);
    if (end) {
      await ports.held.close(catalog, inv.id, { status: end.status, eventId: end.eventId, reason: endReason(end) });
      return { result: "ended-before", ...decided, closedHeld: true };
    }
    return { result: "held", ...decided };
  }
  const request = {
    catalog,
    identifier: inv.id,
    ...(verdict.decision === "reject"
      ? { action: "reject", ...(verdict.reason !== undefined ? { reason: verdict.reason } : {}) }
      : {}),
    correlationId: `event-${event.eventId}`.slice(0, 128),
  };
  const [d] = await enqueueEach(ports.enqueueMany, [request], ports.preview);
  if (d!.disposition === "conflict")
    return { result: "conflict", ...decided, jobId: d!.existingJobId, differences: d!.differences };
  const jobId = d!.jobId!;
  const result = d!.disposition === "enqueued" ? "enqueued" : "duplicate";
  // The invitation's end may have been handled meanwhile, before this request was there to cancel.
  const end = await ports.ends.read(catalog, inv.id);
  if (end && (await cancelIfWaiting(ports, jobId, endReason(end)))) return { result: "canceled", ...decided, jobId };
  return { result, ...decided, jobId };
}

async function ended(ports: IngestPorts, event: PartnerEvent, status: string): Promise<EventHandling> {
  const inv = event.invitation!;
  const { catalog } = event;
  const end = { catalog, identifier: inv.id, status, eventId: event.eventId, at: event.time };
  await ports.ends.mark(end, ports.endsTtlSeconds);
  const reason = endReason(end);
  const closedHeld = await ports.held.close(catalog, inv.id, { status, eventId: event.eventId, reason });
  // The request under the invitation's default key (an accept or a reject), if any.
  const [found] = await ports.preview([{ catalog, identifier: inv.id }]);
  const jobId =
    found?.verdict === "duplicate" ? found.jobId : found?.verdict === "conflict" ? found.existingJobId : undefined;
  // Requests under keys of their own (the API, a person) for the same invitation, not started.
  const others = ((await ports.openRequestsOf?.(catalog, inv.id)) ?? []).filter((id) => id !== jobId);
  let othersCanceled = 0;
  for (const other of others) if (await cancelIfWaiting(ports, other, reason)) othersCanceled++;
  const also = others.length > 0 ? { otherRequestsCanceled: othersCanceled } : {};
  if (jobId === undefined || (found?.verdict === "duplicate" && found.state === "completed")) {
    if (othersCanceled > 0) return { result: "canceled", closedHeld, ...(jobId ? { jobId } : {}), ...also };
    return { result: closedHeld ? "closed" : "noted", closedHeld, ...(jobId ? { jobId } : {}), ...also };
  }
  const canceled = await cancelIfWaiting(ports, jobId, reason);
  return { result: canceled || othersCanceled > 0 ? "canceled" : "not-cancelable", jobId, closedHeld, ...also };
}

/**
 * Cancels a request that no run has started; false when it has (its run finds the invitation's
 * status at AWS and reports it) or is gone.
 */
async function cancelIfWaiting(ports: IngestPorts, jobId: string, reason: string): Promise<boolean> {
  try {
    await ports.cancel(jobId, { reason });
    return true;
  } catch (err) {
    if (err instanceof RequestNotCancelableError || err instanceof RequestNotFoundError) return false;
    throw err;
  }
}

/** The canceled outcome's reason: what ended the invitation and the event that said so. */
export function endReason(end: { status: string; eventId: string; at: string }): string {
  const what = end.status === "EXPIRED" ? "the invitation expired" : "the sender canceled the invitation";
  return `${what} (Partner Central event ${end.eventId} at ${end.at})`.slice(0, REJECT_REASON_MAX_LENGTH);
}
