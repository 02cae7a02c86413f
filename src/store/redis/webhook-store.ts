import { randomUUID } from "node:crypto";
import type { QueueLocation } from "../queue-location.js";
import type {
  DeliveryItem,
  AttemptRecord,
  DueDelivery,
  LoggedAttempt,
  SettleResult,
  WebhookEndpoint,
  WebhookFormat,
  WebhookStore,
} from "../webhook-store.js";
import type { RedisConnection } from "./connection.js";
import { webhookKeyBase } from "./keys.js";
import { defineScript, runScript } from "./lua-scripts.js";
import { SCRIPTS } from "./scripts.js";

export interface RedisWebhookStoreOptions {
  /** A connection of the caller's; never closed. */
  connection: RedisConnection;
  location: QueueLocation;
  /** Fanned-out event ids are remembered this long (a batch fanned out again within it queues nothing), s. */
  seenRetentionSeconds: number;
  /** Attempts kept in each endpoint's delivery log (approximately). @defaultValue 1000 */
  logLength?: number;
}

interface StoredSecret {
  key: string;
  /** ms since the epoch after which it no longer signs; null: no end. */
  until: number | null;
}

/**
 * The webhooks' store on Redis (keys.ts webhookKeyBase says each key): endpoints as hashes,
 * deliveries as one list per (endpoint, invitation), what is due in one sorted set; fan-out, claim
 * and settle are one Lua script each (lua/webhook-*.lua).
 */
export function createRedisWebhookStore(options: RedisWebhookStoreOptions): WebhookStore {
  const redis = options.connection;
  const base = webhookKeyBase(options.location.prefix, options.location.outcomesQueue);
  const due = `${base}:due`;
  const eps = `${base}:eps`;
  const epKey = (id: string) => `${base}:ep:${id}`;
  const logLength = options.logLength ?? 1000;

  const secretsOf = (raw: string | null | undefined): StoredSecret[] => {
    try {
      const parsed = JSON.parse(raw ?? "[]") as StoredSecret[];
      return Array.isArray(parsed) ? parsed : [];
    } catch {
      return [];
    }
  };
  const activeSecrets = (secrets: StoredSecret[], nowMs: number) =>
    secrets.filter((s) => s.until === null || s.until > nowMs);

  function toEndpoint(h: Record<string, string>): WebhookEndpoint | undefined {
    if (!h.id || !h.url) return undefined;
    return {
      id: h.id,
      url: h.url,
      events: h.events ? h.events.split(",") : [],
      catalog: h.catalog ? h.catalog : null,
      format: (h.format === "cloudevents" ? "cloudevents" : "standard") satisfies WebhookFormat,
      rateLimit: Number(h.rateLimit ?? 0),
      enabled: h.enabled === "1",
      disabledReason: h.disabledReason || null,
      disabledAt: h.disabledAt || null,
      createdAt: h.createdAt ?? "",
      failingSince: h.failingSince || null,
      lastSuccessAt: h.lastSuccessAt || null,
      activeSecrets: activeSecrets(secretsOf(h.secrets), Date.now()).length,
    };
  }

  /** The settle script's arguments (lua/webhook-settle.lua). */
  function settleArgs(
    delivery: DueDelivery,
    outcome: SettleResult,
    attempt: AttemptRecord,
    disableAfterMs: number,
  ): string[] {
    const now = Date.now();
    const nextItem: DeliveryItem = {
      ...delivery.item,
      attempts: attempt.attempt,
      firstFailureAt: delivery.item.firstFailureAt ?? new Date(now).toISOString(),
    };
    return [
      base,
      delivery.endpointId,
      delivery.orderKey,
      delivery.item.eventId,
      outcome.result,
      String(now),
      String(outcome.result === "retry" ? Math.round(outcome.nextAtMs) : now),
      outcome.result === "retry" || outcome.result === "gone" ? JSON.stringify(nextItem) : "",
      String(disableAfterMs),
      new Date(now).toISOString(),
      String(logLength),
      String(attempt.attempt),
      attempt.status === null ? "" : String(attempt.status),
      String(Math.round(attempt.latencyMs)),
      attempt.error ?? "",
      delivery.item.firstFailureAt ?? "",
    ];
  }

  async function endpoint(id: string): Promise<WebhookEndpoint | undefined> {
    return toEndpoint(await redis.hgetall(epKey(id)));
  }

  return {
    async addEndpoint(input) {
      const id = `wh_${randomUUID().replaceAll("-", "").slice(0, 20)}`;
      const now = new Date();
      const secrets: StoredSecret[] = [{ key: input.secret, until: null }];
      await redis
        .multi()
        .hset(epKey(id), {
          id,
          url: input.url,
          events: input.events.join(","),
          catalog: input.catalog ?? "",
          format: input.format,
          rateLimit: String(input.rateLimit),
          enabled: "1",
          createdAt: now.toISOString(),
          createdMs: String(now.getTime()),
          secrets: JSON.stringify(secrets),
        })
        .sadd(eps, id)
        .exec();
      return (await endpoint(id))!;
    },
    async endpoints() {
      const ids = (await redis.smembers(eps)).sort();
      const read = redis.pipeline();
      for (const id of ids) read.hgetall(epKey(id));
      const rows = (await read.exec()) ?? [];
      return rows.flatMap(([, h]) => toEndpoint(h as Record<string, string>) ?? []);
    },
    endpoint,
    async signingSecrets(id, nowMs = Date.now()) {
      const secrets = activeSecrets(secretsOf(await redis.hget(epKey(id), "secrets")), nowMs);
      return secrets.map((s) => s.key).reverse();
    },
    async setEnabled(id, enabled, reason) {
      if ((await redis.exists(epKey(id))) === 0) return false;
      if (!enabled) {
        await redis.hset(epKey(id), {
          enabled: "0",
          disabledReason: reason ?? "disabled by an operator",
          disabledAt: new Date().toISOString(),
        });
        return true;
      }
      // Enabled again: what waits for it is due now (its queues left the due set while it was disabled).
      const orderKeys = await redis.smembers(`${base}:lists:${id}`);
      const multi = redis.multi().hset(epKey(id), "enabled", "1").hdel(epKey(id), "disabledReason", "disabledAt");
      multi.hdel(epKey(id), "failingSince", "failingSinceMs");
      const now = Date.now();
      for (const orderKey of orderKeys) multi.zadd(due, "NX", now, `${id}:${orderKey}`);
      await multi.exec();
      return true;
    },
    async removeEndpoint(id) {
      if ((await redis.exists(epKey(id))) === 0) return false;
      const orderKeys = await redis.smembers(`${base}:lists:${id}`);
      const multi = redis.multi().del(epKey(id)).srem(eps, id);
      for (const orderKey of orderKeys) {
        multi.del(`${base}:q:${id}:${orderKey}`).zrem(due, `${id}:${orderKey}`);
      }
      multi.del(`${base}:lists:${id}`, `${base}:seen:${id}`, `${base}:log:${id}`).hdel(`${base}:tat`, id);
      await multi.exec();
      return true;
    },
    async rotateSecret(id, secret, overlapMs) {
      const key = epKey(id);
      for (let attempt = 0; attempt < 20; attempt++) {
        await redis.watch(key);
        const raw = await redis.hget(key, "secrets");
        if (raw === null) {
          await redis.unwatch();
          return false;
        }
        const now = Date.now();
        const kept = activeSecrets(secretsOf(raw), now).map((s) => ({
          key: s.key,
          until: Math.min(s.until ?? Number.POSITIVE_INFINITY, now + overlapMs),
        }));
        const next = [...kept, { key: secret, until: null }];
        const done = await redis.multi().hset(key, "secrets", JSON.stringify(next)).exec();
        if (done !== null) return true;
      }
      throw new Error(`could not rotate the secret of ${id}: too much contention`);
    },

    async fanOut(items, opts = {}) {
      if (items.length === 0) return 0;
      const now = Date.now();
      const args = [base, String(now), String(now - options.seenRetentionSeconds * 1000), opts.force ? "1" : "0"];
      for (const d of items) args.push(d.endpointId, d.orderKey, d.item.eventId, JSON.stringify(d.item));
      return Number(await runScript(redis, SCRIPTS.webhookFanOut, [due], args));
    },
    async claimDue(count, leaseMs) {
      const flat = (await runScript(
        redis,
        SCRIPTS.webhookClaim,
        [due],
        [base, String(Date.now()), String(Math.round(leaseMs)), String(count)],
      )) as string[];
      const out: DueDelivery[] = [];
      for (let i = 0; i + 1 < flat.length; i += 2) {
        const member = flat[i]!;
        const sep = member.indexOf(":");
        out.push({
          endpointId: member.slice(0, sep),
          orderKey: member.slice(sep + 1),
          item: JSON.parse(flat[i + 1]!) as DeliveryItem,
        });
      }
      return out;
    },
    async settle(delivery, outcome, attempt, disableAfterMs) {
      const applied = await runScript(
        redis,
        SCRIPTS.webhookSettle,
        [due],
        settleArgs(delivery, outcome, attempt, disableAfterMs),
      );
      return Number(applied) === 1;
    },
    async settleMany(settles) {
      if (settles.length === 0) return [];
      defineScript(redis, SCRIPTS.webhookSettle);
      const batch = redis.pipeline() as unknown as Record<string, (...a: unknown[]) => unknown> & {
        exec(): Promise<Array<[Error | null, unknown]> | null>;
      };
      for (const s of settles) {
        batch[SCRIPTS.webhookSettle.name]!(1, [due], settleArgs(s.delivery, s.outcome, s.attempt, s.disableAfterMs));
      }
      const answers = (await batch.exec()) ?? [];
      if (answers.length !== settles.length) throw new Error("settleMany: the pipeline was not run whole");
      return answers.map(([err, applied]) => {
        if (err) throw err;
        return Number(applied) === 1;
      });
    },
    async deliveryLog(endpointId, limit) {
      const raw = (await redis.xrevrange(`${base}:log:${endpointId}`, "+", "-", "COUNT", limit)) as Array<
        [string, string[]]
      >;
      return raw.map(([, fields]) => {
        const f: Record<string, string> = {};
        for (let i = 0; i + 1 < fields.length; i += 2) f[fields[i]!] = fields[i + 1]!;
        return {
          eventId: f.eventId ?? "",
          attempt: Number(f.attempt ?? 0),
          status: f.status ? Number(f.status) : null,
          latencyMs: Number(f.latencyMs ?? 0),
          error: f.error || null,
          at: f.at ?? "",
          result: (f.result ?? "failed") as LoggedAttempt["result"],
        };
      });
    },
    async pending(endpointId) {
      const ids = endpointId ? [endpointId] : await redis.smembers(eps);
      let total = 0;
      for (const id of ids) {
        const orderKeys = await redis.smembers(`${base}:lists:${id}`);
        const read = redis.pipeline();
        for (const orderKey of orderKeys.slice(0, 10_000)) read.llen(`${base}:q:${id}:${orderKey}`);
        for (const [, n] of (await read.exec()) ?? []) total += Number(n ?? 0);
      }
      return total;
    },
  };
}
