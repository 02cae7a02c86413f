import { outcomeLogFromConfig, webhookStoreFromConfig } from "../../app/deliver.js";
import { addWebhook, replayWebhooks, rotateWebhookSecret } from "../../delivery/webhook-admin.js";
import { WebhookNotFoundError } from "../../errors/index.js";
import { parseDuration, DURATION_RULE } from "../../schemas/duration.js";
import { createRedis } from "../../store/redis/connection.js";
import type { WebhookEndpoint, WebhookStore } from "../../store/webhook-store.js";
import type { OutcomeLog } from "../../store/outcome-log.js";
import type { Config } from "../../schemas/config.js";
import { prepareRuntime } from "../runtime.js";
import { intArg, UsageError } from "../args.js";
import { defineCommand, defineGroup, type OutputFormat } from "../define-command.js";

async function withStore<T>(fn: (store: WebhookStore, log: OutcomeLog, config: Config) => Promise<T>): Promise<T> {
  const { config } = await prepareRuntime("webhooks");
  const redis = createRedis(config.REDIS_URL, { cluster: config.REDIS_CLUSTER });
  const log = outcomeLogFromConfig(config, redis);
  try {
    return await fn(webhookStoreFromConfig(config, redis), log, config);
  } finally {
    await log.close();
    redis.disconnect();
  }
}

function print(value: unknown, output: OutputFormat, table: () => string): void {
  process.stdout.write(output === "table" ? table() : `${JSON.stringify(value, null, output === "json" ? 2 : 0)}\n`);
}

function endpointLine(e: WebhookEndpoint): string {
  const state = e.enabled ? "enabled" : `disabled (${e.disabledReason ?? "?"})`;
  const events = e.events.length > 0 ? e.events.join(",") : "all";
  return `${e.id}  ${e.url}  events=${events}  catalog=${e.catalog ?? "any"}  ${e.format}  ${state}\n`;
}

const output = { formats: ["json", "table"] as const, tty: "table" as const, piped: "json" as const };

const add = defineCommand({
  name: "add",
  summary: "add an endpoint; prints its secret (shown this once)",
  args: ["URL"],
  options: {
    events: { type: "string", description: "only these event types, comma-separated", valueName: "TYPES" },
    catalog: { type: "string", description: "only events of this catalog", valueName: "C" },
    secret: { type: "string", description: "its signing secret (default: a new one)", valueName: "whsec_…" },
    cloudevents: { type: "boolean", description: "send CloudEvents 1.0 structured events" },
    rate: { type: "string", description: "at most N deliveries per second", valueName: "N" },
  },
  output,
  run: ({ values, positionals, output: out }) =>
    withStore(async (store, _log, config) => {
      const url = positionals[0];
      if (!url) throw new UsageError("URL is required");
      const rate = intArg(values.rate as string | undefined, "rate", 0);
      const { endpoint, secret } = await addWebhook(
        store,
        {
          url,
          ...(values.events ? { events: String(values.events).split(",").filter(Boolean) } : {}),
          ...(values.catalog ? { catalog: String(values.catalog) } : {}),
          ...(values.secret ? { secret: String(values.secret) } : {}),
          format: values.cloudevents ? "cloudevents" : "standard",
          ...(rate !== undefined ? { rateLimit: rate } : {}),
        },
        { rateLimit: config.WEBHOOK_RATE_LIMIT },
      );
      print({ ...endpoint, secret }, out, () => `${endpointLine(endpoint)}secret: ${secret}  (shown this once)\n`);
      return 0;
    }),
});

const list = defineCommand({
  name: "list",
  summary: "list endpoints (never their secrets)",
  output,
  run: ({ output: out }) =>
    withStore(async (store) => {
      const endpoints = await store.endpoints();
      print(endpoints, out, () => endpoints.map(endpointLine).join("") || "no endpoints\n");
      return 0;
    }),
});

const byId = (
  name: string,
  summary: string,
  act: (store: WebhookStore, id: string, config: Config) => Promise<unknown>,
) =>
  defineCommand({
    name,
    summary,
    args: ["ID"],
    output,
    run: ({ positionals, output: out }) =>
      withStore(async (store, _log, config) => {
        const id = positionals[0];
        if (!id) throw new UsageError("ID is required");
        const result = await act(store, id, config);
        print(result, out, () => `${JSON.stringify(result)}\n`);
        return 0;
      }),
  });

const found = async (ok: boolean | Promise<boolean>, id: string) => {
  if (!(await ok)) throw new WebhookNotFoundError(id);
};

const disable = byId("disable", "stop delivering to an endpoint (what waits for it is kept)", async (store, id) => {
  await found(store.setEnabled(id, false, "disabled by an operator"), id);
  return store.endpoint(id);
});
const enable = byId("enable", "deliver to an endpoint again (what waited for it goes first)", async (store, id) => {
  await found(store.setEnabled(id, true), id);
  return store.endpoint(id);
});
const remove = byId("remove", "remove an endpoint and what waits for it", async (store, id) => {
  await found(store.removeEndpoint(id), id);
  return { removed: id };
});
const rotate = byId(
  "rotate-secret",
  "a new signing secret (shown this once); the old one signs WEBHOOK_SECRET_OVERLAP more",
  async (store, id, config) => {
    const { secret, endpoint } = await rotateWebhookSecret(store, id, config.WEBHOOK_SECRET_OVERLAP);
    return { ...endpoint, secret };
  },
);
const deliveries = byId(
  "log",
  "an endpoint's latest delivery attempts (attempt, status, latency)",
  async (store, id) => {
    if (!(await store.endpoint(id))) throw new WebhookNotFoundError(id);
    return { pending: await store.pending(id), attempts: await store.deliveryLog(id, 100) };
  },
);

const replay = defineCommand({
  name: "replay",
  summary: "deliver logged events again (--since D | --event-id ID) [--endpoint ID]",
  options: {
    since: { type: "string", description: "events of the last D (30m, 2h, 1d)", valueName: "D" },
    "event-id": { type: "string", description: "the event with this id", valueName: "ID" },
    endpoint: { type: "string", description: "to this endpoint only (default: every matching one)", valueName: "ID" },
  },
  output,
  run: ({ values, output: out }) =>
    withStore(async (store, log) => {
      const since = values.since as string | undefined;
      const eventId = values["event-id"] as string | undefined;
      if ((since === undefined) === (eventId === undefined))
        throw new UsageError("give one of --since D or --event-id ID");
      let sinceMs: number | undefined;
      if (since !== undefined) {
        const ms = parseDuration(since);
        if (ms === undefined) throw new UsageError(`--since ${DURATION_RULE}, got "${since}"`);
        sinceMs = Date.now() - ms;
      }
      const result = await replayWebhooks(store, log, {
        ...(sinceMs !== undefined ? { sinceMs } : {}),
        ...(eventId !== undefined ? { eventId } : {}),
        ...(values.endpoint ? { endpointId: String(values.endpoint) } : {}),
      });
      print(result, out, () => `${result.events} event(s), ${result.queued} delivery(ies) queued\n`);
      return result.events === 0 && eventId !== undefined ? 1 : 0;
    }),
});

export const webhooks = defineGroup({
  name: "webhooks",
  summary: "manage webhook endpoints: add, list, disable, enable, remove, rotate-secret, replay, log",
  details: "Deliveries are made by `pc-invitations deliver` processes. See docs/webhooks.md.",
  commands: [add, list, disable, enable, remove, rotate, replay, deliveries],
});
