import { z } from "zod";
import { OUTCOME_TYPES } from "../contracts/outcome.js";
import { NOTICE_TYPES } from "../contracts/notice.js";
import { WebhookNotFoundError, WebhookValidationError } from "../errors/index.js";
import { toFieldIssues } from "../schemas/issues.js";
import type { OutcomeLog, LoggedEvent } from "../store/outcome-log.js";
import type { WebhookEndpoint, WebhookStore } from "../store/webhook-store.js";
import { newWebhookSecret, SECRET_RULE, secretKey } from "./sign.js";
import { fanOutItems } from "./webhook-sink.js";

/** The event types an endpoint may ask for: every outcome type and every notice type. */
export const WEBHOOK_EVENT_TYPES: readonly string[] = [...OUTCOME_TYPES, ...NOTICE_TYPES];

export const webhookInputSchema = z.strictObject({
  url: z
    .url({ protocol: /^https?$/, error: "must be an http(s) URL" })
    .refine((u) => !/^[a-z]+:\/\/[^/]*@/i.test(u), { error: "must not carry credentials (user:pass@)" }),
  events: z
    .array(
      z.enum(WEBHOOK_EVENT_TYPES as [string, ...string[]], {
        error: `must be one of ${WEBHOOK_EVENT_TYPES.join(", ")}`,
      }),
    )
    .max(20)
    .default([]),
  catalog: z.string().min(1).max(64).nullable().default(null),
  secret: z
    .string()
    .refine((s) => secretKey(s) !== undefined, { error: SECRET_RULE })
    .optional(),
  format: z.enum(["standard", "cloudevents"]).default("standard"),
  rateLimit: z.number().int().min(0).max(100_000).optional(),
});
export type WebhookInput = z.input<typeof webhookInputSchema>;

/** An endpoint as shown: never its secrets. */
export type ShownEndpoint = WebhookEndpoint;

/**
 * Adds an endpoint: validated (each field and its rule), with the caller's secret or a new one.
 * The secret is in this answer only: nothing reads it back later.
 * @throws WebhookValidationError
 */
export async function addWebhook(
  store: WebhookStore,
  input: unknown,
  defaults: { rateLimit: number },
): Promise<{ endpoint: ShownEndpoint; secret: string }> {
  const parsed = webhookInputSchema.safeParse(input);
  if (!parsed.success) throw new WebhookValidationError(toFieldIssues(parsed.error));
  const secret = parsed.data.secret ?? newWebhookSecret();
  const endpoint = await store.addEndpoint({
    url: parsed.data.url,
    events: parsed.data.events,
    catalog: parsed.data.catalog,
    format: parsed.data.format,
    rateLimit: parsed.data.rateLimit ?? defaults.rateLimit,
    secret,
  });
  return { endpoint, secret };
}

/**
 * A new secret for the endpoint (or the caller's); the old ones sign for `overlapMs` more. @throws
 * WebhookNotFoundError
 */
export async function rotateWebhookSecret(
  store: WebhookStore,
  id: string,
  overlapMs: number,
  given?: string,
): Promise<{ secret: string; endpoint: ShownEndpoint }> {
  if (given !== undefined && secretKey(given) === undefined) {
    throw new WebhookValidationError([{ field: "secret", rule: SECRET_RULE }]);
  }
  const secret = given ?? newWebhookSecret();
  if (!(await store.rotateSecret(id, secret, overlapMs))) throw new WebhookNotFoundError(id);
  return { secret, endpoint: (await store.endpoint(id))! };
}

/**
 * Queues the events of the outcome log again for endpoints (one, or every one that matches):
 * those logged since `sinceMs`, or the one with `eventId`. Delivered again even when they were
 * delivered before (Standard Webhooks receivers dedupe on webhook-id). Bounded: at most `max`
 * events. Returns how many deliveries were queued.
 */
export async function replayWebhooks(
  store: WebhookStore,
  log: OutcomeLog,
  selection: { sinceMs?: number; eventId?: string; endpointId?: string; max?: number },
): Promise<{ events: number; queued: number }> {
  const endpoints = await store.endpoints();
  if (selection.endpointId !== undefined && !endpoints.some((e) => e.id === selection.endpointId)) {
    throw new WebhookNotFoundError(selection.endpointId);
  }
  // A replay goes to endpoints whatever their creation time: they asked for it.
  const targets = endpoints
    .filter((e) => selection.endpointId === undefined || e.id === selection.endpointId)
    .map((e) => ({ ...e, createdAt: new Date(0).toISOString() }));
  const max = selection.max ?? 100_000;
  let after =
    selection.sinceMs !== undefined ? `${Math.max(0, selection.sinceMs - 1)}-${Number.MAX_SAFE_INTEGER}` : "0";
  let events = 0;
  let queued = 0;
  for (let pages = 0; pages < 1000 && events < max; pages++) {
    const page = await log.readEvents(after, Math.min(500, max - events));
    const chosen: LoggedEvent[] =
      selection.eventId === undefined ? page.events : page.events.filter((e) => e.event.eventId === selection.eventId);
    events += chosen.length;
    queued += await store.fanOut(fanOutItems(chosen, targets), { force: true });
    if (page.events.length === 0 || page.next === after) break;
    after = page.next;
  }
  return { events, queued };
}
