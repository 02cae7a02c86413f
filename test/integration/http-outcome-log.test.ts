/**
 * GET /v1/outcomes and GET /v1/outcomes/stream (SSE) on a real Redis: pages after a cursor,
 * filters, a stream that resumes from Last-Event-ID, and nothing consumed.
 */
import type { AddressInfo } from "node:net";
import type { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { buildHttpServer } from "../../src/http/build-http-server.js";
import { loadConfig } from "../../src/config/load-config.js";
import type { OutcomeEvent } from "../../src/contracts/outcome.js";
import { createLogger } from "../../src/observability/logger.js";
import { createRedis } from "../../src/store/redis/connection.js";
import { createOutcomeQueue } from "../../src/store/redis/publish.js";
import { deletePrefix, REDIS_URL, uniquePrefix } from "../helpers/redis.js";

const TOKEN = "outcome-log-token-0123456789";
const redis = createRedis(REDIS_URL) as Redis;
const prefix = uniquePrefix("http-log");
const ADMIN = "outcome-log-admin-0123456789";
const config = loadConfig(
  {},
  { REDIS_URL, QUEUE_PREFIX: prefix, HTTP_AUTH_TOKENS: TOKEN, HTTP_ADMIN_TOKENS: ADMIN, HTTP_DASHBOARD: false },
);
const outcomes = createOutcomeQueue({
  connection: redis,
  prefix,
  queueName: config.OUTCOMES_QUEUE,
  requestsQueueName: config.REQUESTS_QUEUE,
  retentionSeconds: 600,
  idempotencyRetentionSeconds: 600,
});
const app = await buildHttpServer({
  producer: { enqueue: async () => ({}), enqueueMany: async () => [] },
  redis,
  config,
  logger: createLogger({ level: "silent" }),
});
await app.listen({ port: 0, host: "127.0.0.1" });
const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
const headers = { authorization: `Bearer ${TOKEN}` };
afterAll(async () => {
  await app.close();
  await outcomes.close();
  await deletePrefix(redis, prefix);
  redis.disconnect();
});

const event = (i: number, type = "accepted"): OutcomeEvent =>
  ({
    schemaVersion: 1,
    eventId: `evt-${i}`,
    type,
    requestId: `AWS.inv-${i}.r`,
    correlationId: null,
    catalog: i % 2 ? "Sandbox" : "AWS",
    identifier: `inv-${i}`,
    clientToken: "t",
    attempts: 1,
    completedAt: new Date().toISOString(),
  }) as unknown as OutcomeEvent;

describe("the outcome log over HTTP", () => {
  it("pages after a cursor with filters, consuming nothing; a bad cursor is a 400 naming the field", async () => {
    for (let i = 0; i < 5; i++) await outcomes.publish(event(i, i === 3 ? "failed" : "accepted"));
    const first = (await (await fetch(`${base}/v1/outcomes?limit=2`, { headers })).json()) as any;
    expect(first.items.map((x: any) => x.event.eventId)).toEqual(["evt-0", "evt-1"]);
    const second = (await (await fetch(`${base}/v1/outcomes?after=${first.next}&limit=10`, { headers })).json()) as any;
    expect(second.items.map((x: any) => x.event.eventId)).toEqual(["evt-2", "evt-3", "evt-4"]);
    const failed = (await (await fetch(`${base}/v1/outcomes?type=failed`, { headers })).json()) as any;
    expect(failed.items.map((x: any) => x.event.eventId)).toEqual(["evt-3"]);
    const sandbox = (await (await fetch(`${base}/v1/outcomes?catalog=Sandbox`, { headers })).json()) as any;
    expect(sandbox.items.map((x: any) => x.event.eventId)).toEqual(["evt-1", "evt-3"]);
    const bad = await fetch(`${base}/v1/outcomes?after=x;DEL`, { headers });
    expect(bad.status).toBe(400);
    expect(bad.headers.get("content-type")).toContain("application/problem+json");
    expect(JSON.stringify(await bad.json())).toContain("after");
    expect(await outcomes.queue.getWaitingCount()).toBe(5);
  });

  it("streams as server-sent events, resuming after Last-Event-ID, filtered by type", async () => {
    const page = (await (await fetch(`${base}/v1/outcomes?limit=2`, { headers })).json()) as any;
    const control = new AbortController();
    const res = await fetch(`${base}/v1/outcomes/stream?type=accepted`, {
      headers: { ...headers, "last-event-id": page.items[1].cursor },
      signal: control.signal,
    });
    expect(res.headers.get("content-type")).toBe("text/event-stream");
    const reader = res.body!.getReader();
    let text = "";
    const ids = () => [...text.matchAll(/data: (\{.*\})/g)].map((m) => JSON.parse(m[1]!).eventId as string);
    const pump = (async () => {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        text += new TextDecoder().decode(value);
      }
    })().catch(() => undefined);
    await outcomes.publish(event(9));
    const deadline = Date.now() + 30_000;
    while (!ids().includes("evt-9") && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    control.abort();
    await pump;
    expect(ids()).toEqual(["evt-2", "evt-4", "evt-9"]);
    expect(text).toMatch(/^id: \d+-\d+$/m);
  });
});

describe("/v1/webhooks", () => {
  it(
    "creates an endpoint showing its secret once, never after; names the " + "field of a bad one; rotates; removes",
    async () => {
      const json = { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" };
      const admin = { authorization: `Bearer ${ADMIN}` };
      const refused = await fetch(`${base}/v1/webhooks`, {
        method: "POST",
        headers: { ...headers, "content-type": "application/json" },
        body: "{}",
      });
      expect(refused.status).toBe(403);
      const bad = await fetch(`${base}/v1/webhooks`, {
        method: "POST",
        headers: json,
        body: JSON.stringify({ url: "ftp://x" }),
      });
      expect(bad.status).toBe(400);
      expect(JSON.stringify(await bad.json())).toContain("url");
      const created = await fetch(`${base}/v1/webhooks`, {
        method: "POST",
        headers: json,
        body: JSON.stringify({ url: "https://example.com/hook", events: ["failed"] }),
      });
      expect(created.status).toBe(201);
      const ep = (await created.json()) as any;
      expect(ep.secret).toMatch(/^whsec_/);
      const listed = await (await fetch(`${base}/v1/webhooks`, { headers })).text();
      const one = await (await fetch(`${base}/v1/webhooks/${ep.id}`, { headers })).text();
      for (const text of [listed, one]) {
        expect(text).toContain(ep.id);
        expect(text).not.toContain(ep.secret.slice(6, 26));
      }
      const rotated = (await (
        await fetch(`${base}/v1/webhooks/${ep.id}/rotate-secret`, { method: "POST", headers: admin })
      ).json()) as any;
      expect(rotated.secret).toMatch(/^whsec_/);
      expect(rotated.activeSecrets).toBe(2);
      expect(await (await fetch(`${base}/v1/webhooks`, { headers })).text()).not.toContain(rotated.secret.slice(6, 26));
      expect((await fetch(`${base}/v1/webhooks/${ep.id}`, { method: "DELETE", headers: admin })).status).toBe(204);
      expect((await fetch(`${base}/v1/webhooks/${ep.id}`, { headers })).status).toBe(404);
    },
  );
});
