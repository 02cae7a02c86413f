/**
 * The status read model and the request listings on Redis, with real BullMQ queues, a real worker,
 * the emulator and the real SDK: each figure of the report against what happened.
 */
import { hostname } from "node:os";
import { afterEach, describe, expect, it } from "vitest";
import { startPipeline, TEST_CREDENTIALS, type Pipeline } from "../helpers/pipeline.js";
import { waitForOutcomes } from "../helpers/outcomes.js";
import { waitFor } from "../helpers/wait.js";
import { createRequestReader, type RequestReader } from "../../src/app/request-reader.js";
import { createSdkInvitationApi } from "../../src/aws/sdk-invitation-api.js";
import { consumeOutcomes } from "../../src/outcomes/consume.js";
import { createRedisRequestStore } from "../../src/store/redis/redis-request-store.js";
import { DEFAULT_RETRY_POLICY } from "../../src/store/redis/job-options.js";
import { statusReportSchema } from "../../src/http/http-schemas.js";
import { createRequestControl } from "../../src/app/request-control.js";

let p: Pipeline | undefined;
let reader: RequestReader | undefined;
const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  await reader?.close();
  await p?.close();
  p = reader = undefined;
});

const OUTCOMES = "invitation-outcomes";

describe("pc-invitations status on Redis", () => {
  it("shows a backlog, its oldest request, a running worker's admitted " +
    "calls, failures without outcome and parked outcomes", async () => {
    p = await startPipeline({ label: "status" });
    reader = createRequestReader(p.config, p.redis);
    const status = async () => statusReportSchema.parse(await reader!.status());

    const invs = p.emulator.seedInvitations(3);
    const [first] = await p.producer.enqueueMany([{ catalog: invs[0]!.catalog, identifier: invs[0]!.identifier }]);
    await new Promise((r) => setTimeout(r, 1100));
    await p.producer.enqueueMany([
      ...invs.slice(1).map((i) => ({ catalog: i.catalog, identifier: i.identifier })),
      // Never seeded: AWS answers ResourceNotFoundException, a failed outcome.
      { catalog: "AWS", identifier: "pacinv-NOTSEEDED0001" },
      { catalog: "AWS", identifier: "pacinv-NOTSEEDED0002" },
    ]);
    // A delayed and a prioritized job (BullMQ's own adds), removed again before the worker starts.
    await p.producer.queue.add("accept", {}, { jobId: "AWS.pacinv-DELAYED000000.x", delay: 3_600_000 });
    await p.producer.queue.add("accept", {}, { jobId: "AWS.pacinv-PRIORITY00000.x", priority: 3 });

    const before = await status();
    expect(before.backlog).toEqual({ total: 7, waiting: 5, prioritized: 1, delayed: 1, active: 0 });
    const firstJob = await p.producer.queue.getJob(first!.jobId);
    expect(before.oldestWaiting).toMatchObject({
      id: first!.jobId,
      enqueuedAt: new Date(firstJob!.timestamp).toISOString(),
    });
    expect(before.oldestWaiting!.ageMs).toBeGreaterThanOrEqual(1000);
    expect(before.workers).toEqual({ alive: 0, paused: 0, list: [] });
    expect(before.rate.limits.map((l) => l.limitKey)).toEqual(["default"]);
    expect(before.drain.seconds).toBeNull(); // nothing admitted yet: nothing drains
    expect(before.drain.atLimitSeconds).toBe(7 / before.rate.limit);
    expect(before.queuePaused).toBe(false);
    await p.producer.queue.pause();
    expect((await status()).queuePaused).toBe(true);
    await p.producer.queue.resume();
    await p.producer.queue.remove("AWS.pacinv-DELAYED000000.x");
    await p.producer.queue.remove("AWS.pacinv-PRIORITY00000.x");

    const w = await p.startWorker();
    await waitForOutcomes(p.redis, p.prefix, 5, { timeoutMs: 30_000 });
    const during = await waitFor(
      async () => {
        const s = await status();
        return s.finished.completed + s.finished.failed === 5 ? s : undefined;
      },
      20_000,
      "the five jobs to finish",
    );
    expect(during.finished).toMatchObject({
      completed: 3,
      failed: 2,
      withoutOutcome: { count: 0, checked: 2, ids: [] },
    });
    expect(during.backlog.total).toBe(0);
    expect(during.oldestWaiting).toBeNull();
    expect(during.drain.seconds).toBe(0);
    expect(during.workers.alive).toBe(1);
    expect(during.workers.list[0]).toMatchObject({
      host: hostname(),
      pid: process.pid,
      concurrency: p.config.WORKER_CONCURRENCY,
      limitKeys: ["default"],
      fault: null,
    });
    expect(during.faultPause).toEqual([]);
    // Every call the emulator answered was admitted by the shared limit, within the last minute.
    const calls = p.emulator.calls().length;
    expect(calls).toBeGreaterThanOrEqual(5);
    expect(during.rate.limits[0]).toMatchObject({ limitKey: "default", stored: true, callsLastMinute: calls });
    expect(during.rate.admittedPerSecond).toBeCloseTo(calls / 60, 10);
    expect(during.rate.limit).toBe(1000);
    expect(during.rate.ceiling).toBe(1000);

    // Outcomes: five waiting for a consumer; a consumer that always fails parks them all.
    expect(during.outcomes).toEqual({ waiting: 5, active: 0, parked: 0 });
    const consumer = consumeOutcomes(
      () => {
        throw new Error("downstream unavailable");
      },
      { redis: p.redis, prefix: p.prefix, retryDelayMs: 10, maxAttempts: 1 },
    );
    cleanups.push(() => consumer.close());
    await waitFor(async () => ((await status()).outcomes.parked === 5 ? true : undefined), 20_000, "5 parked");
    expect((await status()).outcomes).toEqual({ waiting: 0, active: 0, parked: 5 });
    await consumer.close();

    // A failed job whose outcome is gone (as an abandoned job's, before the sweeper finishes it).
    const failed = await p.producer.queue.getFailed();
    const lost = failed[0]!.id!;
    await p.redis.del(`${p.prefix}:${OUTCOMES}:${lost}`);
    await p.redis.zrem(`${p.prefix}:${OUTCOMES}:failed`, lost);
    const after = await status();
    expect(after.finished.withoutOutcome).toEqual({ count: 1, checked: 2, ids: [lost] });
    expect(after.outcomes.parked).toBe(4);

    // A worker that shuts down is no longer counted, at once.
    await w.shutdown("test");
    expect((await status()).workers.alive).toBe(0);
  }, 120_000);

  it("shows a worker paused because AWS refuses its credentials, until they work again", async () => {
    p = await startPipeline({ label: "status-fault" });
    reader = createRequestReader(p.config, p.redis);
    let credentialsWork = false;
    const api = createSdkInvitationApi({
      endpoint: p.emulator.url,
      credentials: async () => {
        if (!credentialsWork)
          throw Object.assign(new Error("Could not load credentials from any providers"), {
            name: "CredentialsProviderError",
          });
        return TEST_CREDENTIALS;
      },
    });
    cleanups.push(() => api.destroy());
    const invs = p.emulator.seedInvitations(2);
    await p.producer.enqueueMany(invs.map((i) => ({ catalog: i.catalog, identifier: i.identifier })));
    const w = await p.startWorker({ FAULT_PAUSE_MS: 200, FAULT_PAUSE_MAX_MS: 400 }, { api });
    const paused = await waitFor(
      async () => {
        const s = statusReportSchema.parse(await reader!.status());
        return s.faultPause.length > 0 ? s : undefined;
      },
      20_000,
      "the fault pause in the status",
    );
    expect(paused.workers).toMatchObject({ alive: 1, paused: 1 });
    expect(paused.faultPause).toEqual([
      {
        workerId: paused.workers.list[0]!.id,
        host: hostname(),
        pid: process.pid,
        error: { name: "CredentialsProviderError", message: "Could not load credentials from any providers" },
        since: w.worker.fault!.since.toISOString(),
        pauseMs: expect.any(Number),
      },
    ]);
    expect([200, 400]).toContain(paused.faultPause[0]!.pauseMs);
    // The requests wait, their attempts intact; nothing reached AWS.
    expect(paused.backlog.total).toBe(2);
    expect(paused.finished).toMatchObject({ completed: 0, failed: 0 });

    credentialsWork = true;
    const recovered = await waitFor(
      async () => {
        const s = await reader!.status();
        return s.faultPause.length === 0 && s.finished.completed === 2 ? s : undefined;
      },
      30_000,
      "the fault to clear in the status",
    );
    expect(recovered.workers).toMatchObject({ alive: 1, paused: 0 });
    expect(recovered.workers.list[0]!.fault).toBeNull();
  }, 120_000);
});

describe("listings of requests on Redis (GET /v1/acceptances)", () => {
  it("pages through the waiting list oldest first, without skipping a request while others are taken", async () => {
    p = await startPipeline({ label: "list-wait" });
    reader = createRequestReader(p.config, p.redis);
    const invs = p.emulator.seedInvitations(10);
    const jobIds: string[] = [];
    for (const i of invs)
      jobIds.push((await p.producer.enqueue({ catalog: i.catalog, identifier: i.identifier })).jobId);
    const page1 = await reader.list({ state: "waiting", limit: 4 });
    expect(page1.items.map((i) => i.id)).toEqual(jobIds.slice(0, 4));
    expect(page1.items[0]).toEqual({ id: jobIds[0], state: "waiting", attempts: 0, outcome: null });
    // A worker takes the two oldest (from the tail of the wait list) between the pages.
    const wait = `${p.prefix}:accept-invitation:wait`;
    await p.redis.rpop(wait, 2);
    const page2 = await reader.list({ state: "waiting", limit: 4, cursor: page1.next! });
    expect(page2.items.map((i) => i.id)).toEqual(jobIds.slice(4, 8));
    // Newer requests come after the older ones, and the listing ends.
    const more = await p.producer.enqueue({ catalog: "AWS", identifier: "pacinv-NEWER0000000A" });
    const page3 = await reader.list({ state: "waiting", limit: 4, cursor: page2.next! });
    expect(page3.items.map((i) => i.id)).toEqual([jobIds[8], jobIds[9], more.jobId]);
    expect(page3.next).toBeNull();

    // The page's last request gone (canceled, taken out of order): the next page starts again from
    // the oldest, so a request may repeat, but none still waiting is skipped.
    const a = await reader.list({ state: "waiting", limit: 3 });
    await p.redis.lrem(wait, 0, a.items.at(-1)!.id);
    const b = await reader.list({ state: "waiting", limit: 20, cursor: a.next! });
    const still = (await p.redis.lrange(wait, 0, -1)).reverse();
    expect(b.items.map((i) => i.id)).toEqual(still);
  }, 60_000);

  it("pages through a sorted set by score and id, even when many share a score, newest failure first", async () => {
    p = await startPipeline({ label: "list-failed" });
    reader = createRequestReader(p.config, p.redis);
    const q = p.producer.queue;
    const failedKey = `${p.prefix}:accept-invitation:failed`;
    const ids = Array.from({ length: 7 }, (_, i) => `AWS.pacinv-F${i}AAAAAAAAAAAA.x`);
    for (const id of ids) await q.add("accept", {}, { jobId: id });
    await p.redis.del(`${p.prefix}:accept-invitation:wait`);
    // Five failed in the same ms, two later.
    for (const [i, id] of ids.entries()) await p.redis.zadd(failedKey, i < 5 ? 1000 : 2000 + i, id);
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let n = 0; n < 10; n++) {
      const page = await reader.list({ state: "failed", limit: 2, ...(cursor ? { cursor } : {}) });
      seen.push(...page.items.map((i) => i.id));
      expect(page.items.every((i) => i.state === "failed")).toBe(true);
      if (!page.next) break;
      cursor = page.next;
    }
    expect(seen).toEqual([ids[6], ids[5], ids[4], ids[3], ids[2], ids[1], ids[0]]);
  }, 60_000);

  it("lists an invitation's requests (every key, a canceled one with its " +
    "outcome), and walks every state without a filter", async () => {
    p = await startPipeline({ label: "list-ident" });
    reader = createRequestReader(p.config, p.redis);
    const inv = p.emulator.seedInvitation();
    const mine = [];
    for (const key of ["k-1", "k-2", "k-3"])
      mine.push(
        (await p.producer.enqueue({ catalog: inv.catalog, identifier: inv.identifier, idempotencyKey: key })).jobId,
      );
    await p.producer.enqueue({ catalog: "AWS", identifier: "pacinv-SOMEONEELSE00" });
    const control = createRequestControl(p.config, p.redis, p.producer, { api: p.api });
    cleanups.push(() => control.close());
    await control.cancel(mine[1]!);

    const page = await reader.list({ identifier: inv.identifier });
    expect(page.items.map((i) => [i.id, i.state])).toEqual([
      [mine[0], "waiting"],
      [mine[1], "canceled"],
      [mine[2], "waiting"],
    ]);
    expect(page.items[1]!.outcome).toMatchObject({ type: "canceled", requestId: mine[1] });
    expect((await reader.list({ identifier: inv.identifier, state: "waiting" })).items.map((i) => i.id)).toEqual([
      mine[0],
      mine[2],
    ]);
    expect((await reader.list({ identifier: inv.identifier, catalog: "Sandbox" })).items).toEqual([]);
    // Kept a week past the longest retention after its last new request.
    const index = `${p.prefix}:accept-invitation:by-identifier:${inv.identifier}`;
    expect(await p.redis.pttl(index)).toBeGreaterThan(7 * 86_400_000);

    // A request whose job was lost is given its job back by a transaction (reserve.ts): indexed too.
    await p.redis.del(index);
    await p.producer.queue.remove(mine[0]!);
    const again = await p.producer.enqueue({ catalog: inv.catalog, identifier: inv.identifier, idempotencyKey: "k-1" });
    expect(again).toMatchObject({ duplicate: true, jobId: mine[0] });
    expect((await reader.list({ identifier: inv.identifier })).items.map((i) => i.id)).toEqual([mine[0]]);

    // No filter: every request, state by state, each once.
    const all: string[] = [];
    let cursor: string | undefined;
    for (let n = 0; n < 10; n++) {
      const pg = await reader.list({ limit: 1, ...(cursor ? { cursor } : {}) });
      all.push(...pg.items.map((i) => i.id));
      if (!pg.next) break;
      cursor = pg.next;
    }
    expect(all.sort()).toEqual((await p.producer.queue.getJobs(["wait"])).map((j) => j.id!).sort());
  }, 60_000);
});

describe("the fleet's workers on Redis", () => {
  it(
    "a beat lasts its TTL (kept by Redis), says how long ago it was " + "written, and goes at once when removed",
    async () => {
      p = await startPipeline({ label: "beats" });
      const store = createRedisRequestStore({
        connection: p.redis,
        location: { prefix: p.prefix, requestsQueue: "accept-invitation", outcomesQueue: OUTCOMES },
        retry: DEFAULT_RETRY_POLICY,
        writesQueueMeta: false,
      });
      cleanups.push(() => store.close());
      const beat = (id: string) => ({
        id,
        host: "h",
        pid: 1,
        startedAt: new Date().toISOString(),
        concurrency: 2,
        limitKeys: [],
        fault: null,
      });
      await store.beatWorker(beat("short"), 400);
      await store.beatWorker(beat("long"), 60_000);
      const now = await store.workers(10);
      expect(now.map((w) => w.id).sort()).toEqual(["long", "short"]);
      expect(now.every((w) => w.lastBeatAgoMs >= 0 && w.lastBeatAgoMs < 400)).toBe(true);
      await waitFor(async () => ((await store.workers(10)).length === 1 ? true : undefined), 10_000, "the expiry");
      expect((await store.workers(10)).map((w) => w.id)).toEqual(["long"]);
      await store.removeWorker("long");
      expect(await store.workers(10)).toEqual([]);
      // The limit bounds what is read.
      for (let i = 0; i < 5; i++) await store.beatWorker(beat(`w${i}`), 60_000);
      expect(await store.workers(3)).toHaveLength(3);
    },
  );
});
