/**
 * The webhooks' store: the endpoint registry, the deliveries waiting for each endpoint, and each
 * endpoint's delivery log. The `deliver` fleet (delivery/) and the operators' commands and routes
 * speak this port; redis/webhook-store.ts keeps it with hashes, lists, a sorted set of what is due
 * and Lua scripts (lua/webhook-*.lua).
 *
 * The promises:
 * - `fanOut`: a delivery is queued once per (endpoint, event id) however often the same batch is
 *   fanned out (unless `force`, a replay), at the end of its endpoint's queue for its invitation
 *   (`orderKey`): deliveries of one invitation to one endpoint go out one at a time, in order;
 * - `claimDue`: hands out only the head of each queue, and only to one claimant at a time for
 *   `leaseMs` (a claimant that dies leaves it to the next claim after that); never for a disabled
 *   endpoint; at most the endpoint's rate (a GCRA over the whole fleet);
 * - `settle`: applies only when the delivery is still its queue's head (a late settle after the
 *   lease passed and another claimant settled it changes nothing), and logs the attempt;
 * - secrets are returned only by `signingSecrets` (the deliverer) and at creation or rotation.
 */

/** How the body is shaped: the event itself, or a CloudEvents 1.0 structured event around it. */
export type WebhookFormat = "standard" | "cloudevents";

export interface WebhookEndpoint {
  id: string;
  url: string;
  /** Event types it receives; empty: every type. */
  events: string[];
  /** Only events of this catalog; null: any. */
  catalog: string | null;
  format: WebhookFormat;
  /** Deliveries per second at most (0: no limit). */
  rateLimit: number;
  enabled: boolean;
  /** Why it was disabled (by whom, a 410, failing since when). */
  disabledReason: string | null;
  disabledAt: string | null;
  createdAt: string;
  /** The first failure since the last success, if it is failing. */
  failingSince: string | null;
  lastSuccessAt: string | null;
  /** How many secrets sign its deliveries now (2 while one is rotated out). */
  activeSecrets: number;
}

export interface NewEndpoint {
  url: string;
  events: readonly string[];
  catalog: string | null;
  format: WebhookFormat;
  rateLimit: number;
  secret: string;
}

/** A delivery queued for an endpoint: the event, and where it stands. */
export interface DeliveryItem {
  eventId: string;
  /** The event's cursor in the outcome log. */
  cursor: string;
  /** An outcome or a notice (the CloudEvents type says which). */
  kind?: "outcome" | "notice";
  /** Attempts made so far. */
  attempts: number;
  /** When the first attempt failed (ISO-8601), for the log. */
  firstFailureAt: string | null;
  event: Record<string, unknown> & { type: string; eventId: string };
}

export interface FanOutItem {
  endpointId: string;
  /** The invitation the event is about (`<catalog>.<identifier>`, else its request id): the order's unit. */
  orderKey: string;
  item: DeliveryItem;
}

/** A claimed delivery: the head of one (endpoint, invitation) queue. */
export interface DueDelivery {
  endpointId: string;
  orderKey: string;
  item: DeliveryItem;
}

/** How an attempt ended. */
export type SettleResult =
  /** 2xx: the next of its queue goes next. */
  | { result: "delivered" }
  /** Try again at `nextAtMs` (the schedule, or a Retry-After). */
  | { result: "retry"; nextAtMs: number }
  /** Out of attempts: given up, the next of its queue goes next. */
  | { result: "failed" }
  /** 410 Gone: the endpoint is disabled; the delivery stays first in its queue for an enable. */
  | { result: "gone" };

export interface AttemptRecord {
  eventId: string;
  /** Which attempt (1 = the first). */
  attempt: number;
  /** HTTP status, or null when there was no answer. */
  status: number | null;
  latencyMs: number;
  /** Why it failed (no answer, refused destination, …), or null. */
  error: string | null;
}

export interface LoggedAttempt extends AttemptRecord {
  at: string;
  result: SettleResult["result"];
}

/** One attempt to end: `settle`'s arguments. */
export interface SettleInput {
  delivery: DueDelivery;
  outcome: SettleResult;
  attempt: AttemptRecord;
  disableAfterMs: number;
}

export interface WebhookStore {
  addEndpoint(input: NewEndpoint): Promise<WebhookEndpoint>;
  endpoints(): Promise<WebhookEndpoint[]>;
  endpoint(id: string): Promise<WebhookEndpoint | undefined>;
  /** The secrets that sign its deliveries now, newest first (the deliverer's; never shown). */
  signingSecrets(id: string, nowMs?: number): Promise<string[]>;
  /** Enables (and queues again what waits for it) or disables (with a reason); false when there is no such endpoint. */
  setEnabled(id: string, enabled: boolean, reason?: string): Promise<boolean>;
  /** Removes the endpoint and whatever waits for it; false when there is none. */
  removeEndpoint(id: string): Promise<boolean>;
  /** A new secret signs from now on; the others keep signing for `overlapMs`. */
  rotateSecret(id: string, secret: string, overlapMs: number): Promise<boolean>;

  /** Queues deliveries; returns how many were queued (not already there). */
  fanOut(items: readonly FanOutItem[], options?: { force?: boolean }): Promise<number>;
  /** Up to `count` due deliveries, each leased to the caller for `leaseMs`. */
  claimDue(count: number, leaseMs: number): Promise<DueDelivery[]>;
  /** Ends an attempt; false when the delivery was no longer its queue's head (settled by another). */
  settle(
    delivery: DueDelivery,
    outcome: SettleResult,
    attempt: AttemptRecord,
    disableAfterMs: number,
  ): Promise<boolean>;
  /**
   * Ends several attempts in one round trip (each as `settle`, in order); one answer each. Throws
   * when any of them failed: the caller treats every one as unsettled (their claims then expire
   * and are claimed again, so each is delivered at least once).
   */
  settleMany(settles: readonly SettleInput[]): Promise<boolean[]>;
  /** The newest attempts of an endpoint, newest first. */
  deliveryLog(endpointId: string, limit: number): Promise<LoggedAttempt[]>;
  /** Deliveries waiting (queued, retrying), over every endpoint or one. */
  pending(endpointId?: string): Promise<number>;
}
