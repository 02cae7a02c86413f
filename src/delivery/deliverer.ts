import type { DueDelivery, SettleInput, WebhookEndpoint, WebhookStore } from "../store/webhook-store.js";
import { postWebhook, type PostOptions, type PostResult } from "./post-webhook.js";
import { decideAttempt } from "./retry-decision.js";
import { webhookBody, webhookHeaders } from "./webhook-message.js";

export interface DelivererOptions {
  store: WebhookStore;
  post: PostOptions;
  /** Delays between attempts, ms (WEBHOOK_RETRY_SCHEDULE). */
  schedule: readonly number[];
  /** WEBHOOK_DISABLE_AFTER, ms. */
  disableAfterMs: number;
  /** Deliveries in flight at most. */
  concurrency: number;
  /** CloudEvents `source`. */
  source: string;
  signal: AbortSignal;
  /** Idle poll for due deliveries, ms. @defaultValue 100 */
  pollMs?: number;
  /** An attempt (for metrics and logs). */
  onAttempt?(info: {
    endpointId: string;
    eventId: string;
    attempt: number;
    result: string;
    status: number | null;
    latencyMs: number;
    error: string | null;
  }): void;
  onError?(err: unknown): void;
}

/** How long an endpoint's settings and secrets are reused before they are read again, ms. */
const ENDPOINT_CACHE_MS = 1000;
/** Settles sent in one round trip at most. */
const SETTLE_BATCH_MAX = 256;

/**
 * The delivering half of `deliver`: claims due deliveries (the head of each endpoint-invitation
 * queue, leased for the attempt's bound and a margin), POSTs each signed, and settles it (delivered,
 * retried on the schedule or after Retry-After, failed, or gone). A process that dies leaves its
 * claims to expire and be claimed again: every delivery is made at least once. Settles are sent
 * together (group commit: those that end while one round trip is out go in the next), and an
 * attempt's slot is free once its settle is queued: its claim's lease keeps its queue's next from
 * being claimed until the settle is stored (per-invitation order), and a process that dies before
 * storing it leaves the lease to expire (at least once). Freed slots are claimed together. Stops when `signal`
 * aborts, after its attempts in flight end (each bounded by the post timeout).
 */
export async function runDeliverer(options: DelivererOptions): Promise<void> {
  const { store, signal } = options;
  const pollMs = options.pollMs ?? 100;
  const leaseMs = options.post.timeoutMs + 10_000;
  const cache = new Map<string, { at: number; endpoint: WebhookEndpoint | undefined; secrets: string[] }>();
  const inflight = new Set<Promise<void>>();
  let wake: (() => void) | undefined;
  const settling: Array<SettleInput & { done(applied: boolean): void; fail(err: unknown): void }> = [];
  let flushing = false;
  let flushed: Promise<void> = Promise.resolve();

  /** Stores a settle with the others that end meanwhile, in one round trip. */
  function settle(input: SettleInput): Promise<boolean> {
    return new Promise<boolean>((done, fail) => {
      settling.push({ ...input, done, fail });
      if (!flushing) flushed = flush();
    });
  }

  async function flush(): Promise<void> {
    flushing = true;
    // The attempts that end in this turn of the event loop join the first batch.
    await new Promise<void>((r) => setImmediate(r));
    while (settling.length > 0) {
      const batch = settling.splice(0, SETTLE_BATCH_MAX);
      try {
        const applied = await store.settleMany(batch);
        for (const [i, s] of batch.entries()) s.done(applied[i] ?? false);
      } catch (err) {
        // Unsettled: their claims expire and they are claimed again (at least once).
        for (const s of batch) s.fail(err);
      }
    }
    flushing = false;
  }

  async function endpointOf(id: string) {
    const hit = cache.get(id);
    if (hit && Date.now() - hit.at < ENDPOINT_CACHE_MS) return hit;
    const [endpoint, secrets] = await Promise.all([store.endpoint(id), store.signingSecrets(id)]);
    const entry = { at: Date.now(), endpoint, secrets };
    cache.set(id, entry);
    return entry;
  }

  async function deliver(d: DueDelivery): Promise<void> {
    const { endpoint, secrets } = await endpointOf(d.endpointId);
    if (!endpoint) return; // removed: its queues are gone, the claim drops the rest
    const attempt = d.item.attempts + 1;
    let result: PostResult;
    if (secrets.length === 0) {
      // Never unsigned: without a secret the attempt fails (and is retried), nothing is sent.
      result = { kind: "no-answer", error: "the endpoint has no secret: nothing sent", refused: false, latencyMs: 0 };
    } else {
      const { body, contentType } = webhookBody(d.item.event, endpoint.format, options.source, d.item.kind);
      const headers = webhookHeaders(d.item.eventId, body, contentType, secrets);
      result = await postWebhook(new URL(endpoint.url), headers, body, options.post);
    }
    const outcome = decideAttempt(result, attempt, options.schedule, Date.now());
    const status = result.kind === "answer" ? result.status : null;
    const error =
      result.kind === "no-answer"
        ? result.error
        : outcome.result === "delivered"
          ? null
          : `answered ${result.status}${result.status >= 300 && result.status < 400 ? " (redirects are not followed)" : ""}`;
    const stored = settle({
      delivery: d,
      outcome,
      attempt: { eventId: d.item.eventId, attempt, status, latencyMs: result.latencyMs, error },
      disableAfterMs: options.disableAfterMs,
    });
    // The slot is free once the settle is queued: the claim's lease keeps this queue's next from
    // being claimed before the settle is stored. Past a backlog of settles, wait for this one.
    if (settling.length > SETTLE_BATCH_MAX) await stored;
    else stored.catch((err: unknown) => options.onError?.(err));
    if (outcome.result === "gone" || outcome.result === "failed") cache.delete(d.endpointId);
    options.onAttempt?.({
      endpointId: d.endpointId,
      eventId: d.item.eventId,
      attempt,
      result: outcome.result,
      status,
      latencyMs: result.latencyMs,
      error,
    });
  }

  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener("abort", done, { once: true });
      wake = done;
    });

  while (!signal.aborted) {
    const free = options.concurrency - inflight.size;
    let claimed: DueDelivery[] = [];
    if (free > 0) {
      try {
        claimed = await store.claimDue(free, leaseMs);
      } catch (err) {
        options.onError?.(err);
        await pause(1000);
        continue;
      }
      for (const d of claimed) {
        const run: Promise<void> = deliver(d)
          .catch((err: unknown) => options.onError?.(err))
          .finally(() => {
            inflight.delete(run);
            wake?.();
          });
        inflight.add(run);
      }
    }
    if (claimed.length > 0 && claimed.length === free) continue;
    // Nothing more due now, or every slot taken: until an attempt ends (its queue's next may be due) or the poll.
    await pause(inflight.size >= options.concurrency ? 60_000 : pollMs);
    // The attempts a batch of settles ended all free their slots in this turn: claim them together.
    await new Promise<void>((r) => setImmediate(r));
  }
  await Promise.allSettled(inflight);
  // The settles still queued or out (each bounded by the connection's command timeout).
  while (flushing) await flushed;
}
