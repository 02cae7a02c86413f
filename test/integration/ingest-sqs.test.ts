import { Writable } from "node:stream";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { startPipeline, TEST_CREDENTIALS, type Pipeline } from "../helpers/pipeline.js";
import {
  createEventQueues,
  MOTO_MISSING,
  peekBodies,
  queueDepth,
  sendEvent,
  startMoto,
  type Moto,
} from "../helpers/moto-server.js";
import {
  acceptedEvent,
  canceledEvent,
  connectionCanceledEvent,
  expiredEvent,
  invitationId,
  receivedEvent,
} from "../helpers/partner-events.js";
import { waitFor } from "../helpers/wait.js";
import { startRedisServer, type OwnRedis } from "../helpers/redis-server.js";
import { startIngest, type RunningIngest } from "../../src/app/ingest.js";
import { createLogger } from "../../src/observability/logger.js";
import { loadConfig } from "../../src/config/load-config.js";
import { parsePolicy } from "../../src/producer/discovery-policy.js";
import type { HeldInvitation, HeldInvitations } from "../../src/producer/ingest-event.js";
import { requestStoreFromConfig } from "../../src/app/from-config.js";
import type { RedisRequestStore } from "../../src/store/redis/redis-request-store.js";
import type { DiscoveryPolicyInput } from "../../src/schemas/policy.js";

/**
 * The event intake against a real SQS-compatible server (moto_server, started here on a free port)
 * and real Redis, with the emulator emitting its events to the queue and documented-shape events
 * written by hand.
 */
beforeAll(() => {
  if (MOTO_MISSING) throw new Error(MOTO_MISSING);
});

let moto: Moto | undefined;
let p: Pipeline | undefined;
let ingests: RunningIngest[] = [];
let stores: RedisRequestStore[] = [];
let ownRedis: OwnRedis | undefined;
afterEach(async () => {
  await Promise.all(stores.map((s) => s.close()));
  stores = [];
  await Promise.all(ingests.map((i) => i.stop("test over")));
  ingests = [];
  await p?.close();
  p = undefined;
  await moto?.stop();
  moto?.sqs.destroy();
  moto = undefined;
  await ownRedis?.stop();
  ownRedis = undefined;
});

interface Harness {
  queueUrl: string;
  dlqUrl: string;
  logs: Array<Record<string, unknown>>;
  held: Map<string, HeldInvitation & { closed?: string }>;
  start(overrides?: Record<string, unknown>): RunningIngest;
  /** The request under the invitation's default key: its job id, or undefined when there is none. */
  requestOf(identifier: string): Promise<string | undefined>;
  outcomeOf(jobId: string): Promise<Record<string, unknown> | undefined>;
}

async function harness(label: string, policy: DiscoveryPolicyInput, maxReceiveCount = 3): Promise<Harness> {
  moto = await startMoto();
  const { queueUrl, dlqUrl } = await createEventQueues(moto.sqs, `events-${label}`, maxReceiveCount);
  // A redis-server of the test's own: the shared one may be held by another suite's long script (BUSY).
  ownRedis = await startRedisServer();
  p = await startPipeline({ label, redisUrl: ownRedis.url, emulator: { eventsQueueUrl: queueUrl } });
  const logs: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      if (process.env.INGEST_DEBUG) process.stderr.write(chunk);
      for (const line of String(chunk).split("\n")) if (line.trim()) logs.push(JSON.parse(line));
      cb();
    },
  });
  const held = new Map<string, HeldInvitation & { closed?: string }>();
  const heldStore: HeldInvitations = {
    async hold(inv) {
      held.set(inv.identifier, { ...inv });
    },
    async close(_catalog, identifier, how) {
      const h = held.get(identifier);
      if (!h || h.closed) return false;
      h.closed = how.status;
      return true;
    },
  };
  const store = requestStoreFromConfig(p.config, p.redis, { writesQueueMeta: false });
  stores.push(store);
  const pl = p;
  return {
    queueUrl,
    dlqUrl,
    logs,
    held,
    start(overrides = {}) {
      const config = loadConfig(
        {},
        {
          ...pl.config,
          AWS_ENDPOINT_URL_SQS: moto!.url,
          INGEST_WAIT_SECONDS: 1,
          INGEST_VISIBILITY_TIMEOUT_SECONDS: 5,
          INGEST_BACKOFF_MAX_MS: 1000,
          ...overrides,
        },
      );
      const running = startIngest(config, {
        queueUrl,
        policy: parsePolicy(policy),
        logger: createLogger({ level: "debug", destination }),
        held: heldStore,
        api: pl.api,
        credentials: TEST_CREDENTIALS,
      });
      ingests.push(running);
      return running;
    },
    async requestOf(identifier) {
      const [r] = await pl.producer.preview([{ catalog: "AWS", identifier }]);
      return r?.verdict === "duplicate" ? r.jobId : r?.verdict === "conflict" ? r.existingJobId : undefined;
    },
    async outcomeOf(jobId) {
      return (await store.readOutcome(jobId)) as Record<string, unknown> | undefined;
    },
  };
}

const handled = (h: Harness, identifier: string, kind?: string) =>
  h.logs.filter((l) => l.msg === "ingest.event" && l.identifier === identifier && (!kind || l.kind === kind));

describe("ingest (SQS → requests)", { timeout: 180_000 }, () => {
  it(
    "acts on the emulator's events: Received → policy → enqueued (accept " +
      "or reject by e-mail), held; Cancelled and Expired end waiting " +
      "requests canceled with the reason, close a held one; the queue is " +
      "emptied",
    async () => {
      const h = await harness("ingest-emu", {
        default: "accept",
        rules: [
          { action: "reject", reason: "not our partner", when: { inviterEmailDomains: ["spam.example"] } },
          { action: "hold", when: { connectionTypes: ["SUBSIDIARY"] } },
        ],
      });
      h.start();
      const emu = p!.emulator;
      const accept = emu.seedInvitation({ emailDomain: "good.example" });
      const reject = emu.seedInvitation({ emailDomain: "spam.example" });
      const hold = emu.seedInvitation({ connectionType: "SUBSIDIARY" });
      const toCancel = emu.seedInvitation();
      const toExpire = emu.seedInvitation();
      const jobs = await waitFor(
        async () => {
          const ids = await Promise.all([accept, reject, toCancel, toExpire].map((i) => h.requestOf(i.identifier)));
          return ids.every((id) => id !== undefined) && h.held.has(hold.identifier) ? ids : undefined;
        },
        60_000,
        "the Received events' requests",
      );
      const store = requestStoreFromConfig(p!.config, p!.redis, { writesQueueMeta: false });
      stores.push(store);
      const rejectJob = await store.job(jobs[1]!);
      expect(rejectJob?.data).toMatchObject({ request: { action: "reject", reason: "not our partner" } });
      expect((await store.job(jobs[0]!))?.data).toMatchObject({ request: { identifier: accept.identifier } });
      expect(h.held.get(hold.identifier)).toMatchObject({
        connectionType: "SUBSIDIARY",
        inviterEmail: expect.stringContaining("@"),
      });

      // The sender cancels one, another expires, the held one is canceled too.
      for (const [inv, how] of [
        [toCancel, "cancel"],
        [toExpire, "expire"],
        [hold, "cancel"],
      ] as const) {
        const r = await fetch(`${emu.url}/_emulator/invitations/AWS/${inv.identifier}/${how}`, { method: "POST" });
        expect(r.status).toBe(200);
      }
      const canceled = await waitFor(() => h.outcomeOf(jobs[2]!), 60_000, "the canceled outcome");
      expect(canceled).toMatchObject({ type: "canceled", reason: expect.stringMatching(/^the sender canceled/) });
      const expired = await waitFor(() => h.outcomeOf(jobs[3]!), 60_000, "the expired request's outcome");
      expect(expired).toMatchObject({ type: "canceled", reason: expect.stringMatching(/^the invitation expired/) });
      await waitFor(() => h.held.get(hold.identifier)?.closed === "CANCELED", 60_000, "the held one closed");
      // Nothing of those reached AWS, and every message was deleted once handled.
      expect(emu.calls({ operation: "AcceptConnectionInvitation" })).toHaveLength(0);
      await waitFor(async () => (await queueDepth(moto!.sqs, h.queueUrl)) === 0, 30_000, "an empty queue");
      expect(await h.outcomeOf(jobs[0]!)).toBeUndefined();
    },
  );

  it(
    "a repeated event is a duplicate, never a second request; Cancelled " +
      "before Received enqueues nothing; documented shapes with unknown " +
      "fields are read and the fields logged",
    async () => {
      const h = await harness("ingest-doc", { default: "accept", rules: [] });
      const dup = invitationId();
      const late = invitationId();
      const sqs = moto!.sqs;
      const first = receivedEvent(dup, { extra: { somethingNew: 1 } });
      // The same event twice (SQS at least once), and a second Received for the same invitation.
      await sendEvent(sqs, h.queueUrl, first);
      await sendEvent(sqs, h.queueUrl, first);
      await sendEvent(sqs, h.queueUrl, receivedEvent(dup));
      // Out of order: Cancelled first.
      await sendEvent(sqs, h.queueUrl, canceledEvent(late));
      h.start();
      await waitFor(() => handled(h, dup).length === 3 && handled(h, late).length === 1, 60_000, "four events handled");
      await sendEvent(sqs, h.queueUrl, receivedEvent(late));
      await waitFor(() => handled(h, late, "received").length === 1, 60_000, "the late Received");
      expect(handled(h, late, "received")[0]).toMatchObject({ result: "ended-before" });
      expect(await h.requestOf(late)).toBeUndefined();
      const results = handled(h, dup).map((l) => l.result);
      expect(results.filter((r) => r === "enqueued")).toHaveLength(1);
      expect(results.filter((r) => r === "duplicate")).toHaveLength(2);
      expect(new Set(handled(h, dup).map((l) => l.jobId)).size).toBe(1);
      expect(await p!.producer.queue.getJobCounts("waiting")).toMatchObject({ waiting: 1 });
      expect(h.logs.find((l) => (l.unknownFields as string[] | undefined)?.length)).toMatchObject({
        unknownFields: ["detail.connectionInvitation.somethingNew"],
      });

      // Accepted elsewhere, Partner Connection Cancelled, Expired for a request: noted, closed, canceled.
      await sendEvent(sqs, h.queueUrl, acceptedEvent(invitationId()));
      await sendEvent(sqs, h.queueUrl, connectionCanceledEvent("pac-CONNECTION00001"));
      await sendEvent(sqs, h.queueUrl, expiredEvent(dup));
      await waitFor(() => handled(h, "pac-CONNECTION00001").length === 1, 60_000, "the connection's event");
      expect(h.logs.some((l) => String(l.msg).startsWith("ingest.connection canceled"))).toBe(true);
      const outcome = await waitFor(() => h.outcomeOf(handled(h, dup)[0]!.jobId as string), 60_000, "canceled");
      expect(outcome).toMatchObject({ type: "canceled", reason: expect.stringMatching(/expired/) });
      await waitFor(async () => (await queueDepth(sqs, h.queueUrl)) === 0, 30_000, "an empty queue");
    },
  );

  it(
    "a message that is not a valid event goes to the dead-letter queue " +
      "after maxReceiveCount receipts, each logged once with what is wrong; " +
      "valid ones beside it are handled",
    async () => {
      const h = await harness("ingest-poison", { default: "accept", rules: [] }, 2);
      const sqs = moto!.sqs;
      const good = invitationId();
      await sendEvent(sqs, h.queueUrl, "not json at all");
      await sendEvent(sqs, h.queueUrl, { ...receivedEvent(invitationId()), source: "aws.elsewhere" });
      const noId = receivedEvent("pacinv-short");
      await sendEvent(sqs, h.queueUrl, noId);
      await sendEvent(sqs, h.queueUrl, receivedEvent(good));
      h.start();
      await waitFor(async () => (await h.requestOf(good)) !== undefined, 60_000, "the valid event's request");
      await waitFor(
        async () => (await queueDepth(sqs, h.dlqUrl)) === 3 && (await queueDepth(sqs, h.queueUrl)) === 0,
        60_000,
        "three messages in the DLQ",
      );
      const invalid = h.logs.filter((l) => l.msg === "ingest.invalid message (left for the dead-letter queue)");
      expect(invalid.length).toBeGreaterThanOrEqual(3);
      const problems = invalid.map((l) => String(l.problem));
      expect(problems).toContainEqual(expect.stringMatching(/^\(body\): must be JSON/));
      expect(problems).toContainEqual(expect.stringMatching(/^source: must be "aws.partnercentral-account"/));
      expect(problems).toContainEqual(expect.stringMatching(/^detail.connectionInvitation.id: must match/));
      expect((await peekBodies(sqs, h.dlqUrl)).sort()).toContain("not json at all");
    },
  );

  it("rides out SQS being unreachable (backs off, logs, resumes), and stops within its grace while it is", async () => {
    const h = await harness("ingest-down", { default: "accept", rules: [] });
    const running = h.start({ SHUTDOWN_GRACE_MS: 3000 });
    await waitFor(() => h.logs.some((l) => l.msg === "ingest started"), 30_000, "ingest started");
    await moto!.stop();
    await waitFor(
      () => h.logs.filter((l) => String(l.msg).startsWith("ingest.sqs")).length >= 3,
      60_000,
      "three failed receives",
    );
    const waits = h.logs.filter((l) => String(l.msg).startsWith("ingest.sqs")).map((l) => l.retryInMs as number);
    expect(Math.max(...waits)).toBeLessThanOrEqual(1000);
    // Back (empty, as moto keeps nothing): the queue is made again, an event arrives.
    await moto!.start();
    const { queueUrl } = await createEventQueues(moto!.sqs, "events-ingest-down");
    expect(queueUrl).toBe(h.queueUrl);
    const inv = invitationId();
    await sendEvent(moto!.sqs, queueUrl, receivedEvent(inv));
    await waitFor(async () => (await h.requestOf(inv)) !== undefined, 60_000, "the event after the outage");
    expect(h.logs.some((l) => l.msg === "ingest.sqs reachable again")).toBe(true);

    // Down again, then SIGTERM-like stop: it ends within SHUTDOWN_GRACE_MS.
    await moto!.stop();
    // (A bound, not a measure: the grace is 3 s, the test waits up to 30.)
    const stopped = await Promise.race([running.stop("test"), new Promise((r) => setTimeout(r, 30_000, "hung"))]);
    expect(stopped).toMatchObject({ drained: true });
  });
});
