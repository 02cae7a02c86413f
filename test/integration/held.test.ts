/**
 * Held invitations (issue 20, part 1) on real Redis, the emulator and the real SDK: discovery
 * records what its policy holds, a person decides (one request however many decide alike), the
 * outcome says who and why, a decision on what is no longer pending is refused with its status,
 * an invitation that disappears from the pending list is read once more and closed, and each
 * notice goes out once.
 */
import type { AddressInfo } from "node:net";
import { Queue } from "bullmq";
import { afterEach, describe, expect, it } from "vitest";
import { createSdkInvitationApi } from "../../src/aws/sdk-invitation-api.js";
import { createDiscovery, type Discovery } from "../../src/app/discovery.js";
import { pacingFromConfig, rateLimiterFromConfig } from "../../src/app/from-config.js";
import { createHeldDesk, type HeldDesk } from "../../src/app/held-desk.js";
import { checkHeld } from "../../src/app/held.js";
import { looksLikeNotice, noticeSchema, type Notice } from "../../src/contracts/notice.js";
import { DecisionConflictError, InvitationNotPendingError } from "../../src/errors/index.js";
import { buildHttpServer } from "../../src/http/build-http-server.js";
import { accessStoreFromConfig, addToken } from "../../src/app/access.js";
import { loadConfig } from "../../src/config/load-config.js";
import { createLogger } from "../../src/observability/logger.js";
import { consumeOutcomes, isNotice } from "../../src/outcomes/consume.js";
import { policyHash } from "../../src/producer/discovery-policy.js";
import type { DiscoveryPolicy } from "../../src/schemas/policy.js";
import { startPipeline, TEST_CREDENTIALS, type Pipeline } from "../helpers/pipeline.js";
import { waitForOutcomes } from "../helpers/outcomes.js";
import { waitFor } from "../helpers/wait.js";

const ACME = "111122223333";
const policy: DiscoveryPolicy = {
  default: "hold",
  rules: [{ action: "accept", when: { otherParticipantIdentifiers: [ACME] } }],
};
const HOUR = 3_600_000;

let p: Pipeline | undefined;
const closers: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
  await p?.close();
  p = undefined;
});

interface Setup {
  p: Pipeline;
  run: Discovery;
  desk: HeldDesk;
  /** The notices on the outcomes queue, by eventId, with how many jobs each has. */
  notices(): Promise<Map<string, { count: number; notice: Notice }>>;
  outcomesQueue: Queue;
}

async function setup(label: string, config: Record<string, unknown> = {}): Promise<Setup> {
  p = await startPipeline({ label, config });
  const pl = p;
  const api = createSdkInvitationApi({ endpoint: pl.emulator.url, credentials: TEST_CREDENTIALS });
  closers.push(() => api.destroy());
  const desk = createHeldDesk(pl.config, pl.redis, pl.producer, { api });
  closers.push(() => desk.close());
  const run = createDiscovery({
    api,
    pacing: pacingFromConfig(pl.config, rateLimiterFromConfig(pl.config, pl.redis)),
    producer: pl.producer,
    held: desk.deps,
  });
  const outcomesQueue = new Queue("invitation-outcomes", { connection: pl.redis, prefix: pl.prefix });
  closers.push(() => outcomesQueue.close());
  return {
    p: pl,
    run,
    desk,
    outcomesQueue,
    async notices() {
      const jobs = await outcomesQueue.getJobs(["waiting", "active", "completed", "failed", "delayed"], 0, -1);
      const out = new Map<string, { count: number; notice: Notice }>();
      for (const j of jobs) {
        if (!looksLikeNotice(j.data)) continue;
        const notice = noticeSchema.parse(j.data);
        expect(j.id).toBe(notice.eventId);
        const seen = out.get(notice.eventId);
        out.set(notice.eventId, { count: (seen?.count ?? 0) + 1, notice });
      }
      return out;
    },
  };
}

/** Seeds `n` pending invitations from Globex (held by the policy), expiring in 1h, 2h, … n hours. */
function seedHeld(pl: Pipeline, n: number, catalog = "AWS") {
  return Array.from({ length: n }, (_, i) =>
    pl.emulator.seedInvitation({
      catalog,
      otherParticipantAccountId: "222233334444",
      expiresAt: new Date(Date.now() + (n - i) * 40 * HOUR).toISOString(),
    }),
  );
}

describe("held invitations", () => {
  it("records what the policy holds, lists it by expiry in pages, and sees it again without a new record", async () => {
    const s = await setup("held-list");
    const held = seedHeld(s.p, 5);
    s.p.emulator.seedInvitation({ otherParticipantAccountId: ACME });
    seedHeld(s.p, 2, "Sandbox");
    const first = await s.run({ catalogs: ["AWS", "Sandbox"], policy });
    expect(first).toMatchObject({ held: 7, heldNew: 7, heldClosed: 0, enqueued: { accept: 1, reject: 0 } });

    const page1 = await s.desk.list({ limit: 3, catalog: "AWS" });
    const page2 = await s.desk.list({ limit: 3, catalog: "AWS", cursor: page1.next! });
    expect(page2.next).toBeNull();
    const listed = [...page1.items, ...page2.items];
    // Soonest expiry first: seeded last-to-first.
    expect(listed.map((r) => r.identifier)).toEqual(held.map((h) => h.identifier).reverse());
    expect(listed[0]).toMatchObject({
      catalog: "AWS",
      otherParticipantIdentifier: "222233334444",
      connectionType: "OPPORTUNITY_COLLABORATION",
      rule: null,
      policyHash: policyHash(policy),
      state: "held",
      closedAt: null,
      decision: null,
    });
    expect((await s.desk.list({ limit: 50 })).items).toHaveLength(7);

    const second = await s.run({ catalogs: ["AWS", "Sandbox"], policy });
    expect(second).toMatchObject({ held: 7, heldNew: 0, heldClosed: 0 });
    const again = await s.desk.get(listed[0]!);
    expect(again!.firstSeenAt).toBe(listed[0]!.firstSeenAt);
    expect(Date.parse(again!.lastSeenAt)).toBeGreaterThan(Date.parse(listed[0]!.lastSeenAt));
  }, 60_000);

  it("a decision's outcome carries decidedBy and heldBy; decided ones leave the list", async () => {
    const s = await setup("held-decide");
    const [a, b, c] = seedHeld(s.p, 3);
    await s.run({ catalogs: ["AWS"], policy });
    const worker = await s.p.startWorker();
    closers.push(() => worker.shutdown("test"));

    const accepted = await s.desk.decide({
      catalog: "AWS",
      identifier: a!.identifier,
      action: "accept",
      decidedBy: "alice",
    });
    const rejected = await s.desk.decide({
      catalog: "AWS",
      identifier: b!.identifier,
      action: "reject",
      reason: "not a partner of ours",
      decidedBy: "bob",
    });
    expect(accepted).toMatchObject({ decidedBy: "alice", heldBy: { rule: null, policyHash: policyHash(policy) } });
    expect(accepted.request.duplicate).toBe(false);
    expect(rejected).toMatchObject({ action: "reject", reason: "not a partner of ours", decidedBy: "bob" });
    const outcomes = await waitForOutcomes(s.p.redis, s.p.prefix, 2);
    const byId = new Map(outcomes.map((o) => [o.identifier, o]));
    expect(byId.get(a!.identifier)).toMatchObject({
      type: "accepted",
      decidedBy: "alice",
      heldBy: { rule: null, policyHash: policyHash(policy) },
    });
    expect(byId.get(b!.identifier)).toMatchObject({
      type: "rejected",
      rejectReason: "not a partner of ours",
      decidedBy: "bob",
      heldBy: { rule: null, policyHash: policyHash(policy) },
    });
    expect(s.p.emulator.getInvitation("AWS", b!.identifier)!.Status).toBe("REJECTED");
    expect(await s.desk.get({ catalog: "AWS", identifier: a!.identifier })).toMatchObject({
      state: "decided",
      decision: { action: "accept", decidedBy: "alice", requestId: accepted.request.jobId },
    });
    expect((await s.desk.list({ limit: 50 })).items.map((r) => r.identifier)).toEqual([c!.identifier]);
  }, 60_000);

  it("two people deciding at once make one request: alike, the second sees " +
    "the first; otherwise, a conflict", async () => {
    const s = await setup("held-concurrent");
    const [a, b] = seedHeld(s.p, 2);
    await s.run({ catalogs: ["AWS"], policy });
    const decideA = (who: string) =>
      s.desk.decide({ catalog: "AWS", identifier: a!.identifier, action: "accept", decidedBy: who });
    const [one, two] = await Promise.all([decideA("alice"), decideA("bob")]);
    expect(one.request.jobId).toBe(two.request.jobId);
    expect([one.request.duplicate, two.request.duplicate].sort()).toEqual([false, true]);
    const first = one.request.duplicate ? two : one;
    // Both answers name the person whose decision stands.
    expect(one.decidedBy).toBe(first.decidedBy);
    expect(two.decidedBy).toBe(first.decidedBy);
    // The record keeps the first decision; a discovery that holds it again leaves it decided.
    const record = await s.desk.get({ catalog: "AWS", identifier: a!.identifier });
    expect(record).toMatchObject({ state: "decided", decision: { decidedBy: first.decidedBy } });
    expect(await s.run({ catalogs: ["AWS"], policy })).toMatchObject({ held: 2, heldNew: 0 });
    expect(await s.desk.get({ catalog: "AWS", identifier: a!.identifier })).toEqual(record);
    expect((await s.desk.list({ limit: 50 })).items.map((r) => r.identifier)).toEqual([b!.identifier]);

    const results = await Promise.allSettled([
      s.desk.decide({ catalog: "AWS", identifier: b!.identifier, action: "accept", decidedBy: "carol" }),
      s.desk.decide({ catalog: "AWS", identifier: b!.identifier, action: "reject", reason: "no", decidedBy: "dave" }),
    ]);
    const ok = results.filter((r) => r.status === "fulfilled");
    const refused = results.filter((r) => r.status === "rejected") as PromiseRejectedResult[];
    expect(ok).toHaveLength(1);
    expect(refused).toHaveLength(1);
    expect(refused[0]!.reason).toBeInstanceOf(DecisionConflictError);
    const winner = (ok[0] as PromiseFulfilledResult<Awaited<ReturnType<HeldDesk["decide"]>>>).value;
    expect((refused[0]!.reason as DecisionConflictError).existing).toMatchObject({
      requestId: winner.request.jobId,
      action: winner.action,
      decidedBy: winner.decidedBy,
    });
    // One job per invitation in the requests queue.
    const counts = await s.p.producer.queue.getJobCounts("waiting", "delayed", "prioritized", "active");
    expect(Object.values(counts).reduce((x, y) => x + y, 0)).toBe(2);
  }, 60_000);

  it("refuses a decision on what is no longer pending, with its status; reads one never held first", async () => {
    const s = await setup("held-not-pending");
    const [gone, soonExpired] = seedHeld(s.p, 2);
    await s.run({ catalogs: ["AWS"], policy });
    // Rejected elsewhere: the next discovery no longer lists it, reads it once more and closes it.
    s.p.emulator.seedInvitation({ identifier: gone!.identifier, status: "REJECTED" });
    const before = s.p.emulator.calls({ operation: "GetConnectionInvitation" }).length;
    const summary = await s.run({ catalogs: ["AWS"], policy });
    expect(summary).toMatchObject({ held: 1, heldClosed: 1 });
    expect(s.p.emulator.calls({ operation: "GetConnectionInvitation" }).length - before).toBe(1);
    expect(await s.desk.get({ catalog: "AWS", identifier: gone!.identifier })).toMatchObject({
      state: "rejected-elsewhere",
    });
    const refused = await s.desk
      .decide({ catalog: "AWS", identifier: gone!.identifier, action: "accept", decidedBy: "alice" })
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(InvitationNotPendingError);
    expect(refused).toMatchObject({ status: "REJECTED", held: "rejected-elsewhere" });

    // Past its ExpiresAt (still listed pending): refused as EXPIRED, closed as expired.
    const later = () => new Date(Date.now() + 100 * HOUR);
    const expired = await checkHeld({ ...s.desk.deps, now: later });
    expect(expired.expired).toBe(1);
    expect(await s.desk.get({ catalog: "AWS", identifier: soonExpired!.identifier })).toMatchObject({
      state: "expired",
    });
    await expect(
      s.desk.decide({ catalog: "AWS", identifier: soonExpired!.identifier, action: "accept", decidedBy: "a" }),
    ).rejects.toMatchObject({ code: "INVITATION_NOT_PENDING", status: "EXPIRED" });

    // Never held: read first. Accepted elsewhere → refused; pending → decided, heldBy null.
    const acceptedElsewhere = s.p.emulator.seedInvitation({ status: "ACCEPTED" });
    await expect(
      s.desk.decide({ catalog: "AWS", identifier: acceptedElsewhere.identifier, action: "reject", decidedBy: "a" }),
    ).rejects.toMatchObject({ code: "INVITATION_NOT_PENDING", status: "ACCEPTED" });
    const fresh = s.p.emulator.seedInvitation({});
    const result = await s.desk.decide({
      catalog: "AWS",
      identifier: fresh.identifier,
      action: "accept",
      decidedBy: "a",
    });
    expect(result).toMatchObject({ heldBy: null, decidedBy: "a" });
    expect(
      s.p.emulator
        .calls({ operation: "GetConnectionInvitation" })
        .filter((c) => c.input?.Identifier === fresh.identifier),
    ).toHaveLength(1);
  }, 60_000);

  it("sends each notice once: held when first held, expiring within HELD_EXPIRY_NOTICE, whoever checks", async () => {
    const s = await setup("held-notices", { HELD_EXPIRY_NOTICE: "50h" });
    // Expiring in 80h and 40h: only the second is within 50h.
    const [far, near] = seedHeld(s.p, 2);
    await Promise.all([s.run({ catalogs: ["AWS"], policy }), s.run({ catalogs: ["AWS"], policy })]);
    await Promise.all([checkHeld(s.desk.deps), checkHeld(s.desk.deps)]);
    let notices = await s.notices();
    expect([...notices.keys()].sort()).toEqual(
      [
        `notice:expiring:AWS.${near!.identifier}`,
        `notice:held:AWS.${far!.identifier}`,
        `notice:held:AWS.${near!.identifier}`,
      ].sort(),
    );
    expect(notices.get(`notice:held:AWS.${far!.identifier}`)!.notice).toMatchObject({
      schemaVersion: 1,
      type: "invitation.held",
      catalog: "AWS",
      identifier: far!.identifier,
      otherParticipant: "222233334444",
      rule: null,
      policyHash: policyHash(policy),
    });
    // The jobs consumed and gone (retention): the claims still say "sent".
    await s.outcomesQueue.obliterate({ force: true });
    await s.run({ catalogs: ["AWS"], policy });
    await checkHeld(s.desk.deps);
    expect((await s.notices()).size).toBe(0);

    // Later, the far one comes within 50h: a worker's periodic check sends its expiring notice once.
    const inFortyHours = () => new Date(Date.now() + 40 * HOUR);
    await Promise.all([
      checkHeld({ ...s.desk.deps, now: inFortyHours }),
      checkHeld({ ...s.desk.deps, now: inFortyHours }),
    ]);
    notices = await s.notices();
    expect([...notices.keys()]).toEqual([`notice:expiring:AWS.${far!.identifier}`]);
  }, 60_000);

  it("a worker's periodic check sends the expiring notice, and " +
    "consumeOutcomes hands notices to its handler", async () => {
    const s = await setup("held-worker-check", { HELD_EXPIRY_NOTICE: "100h" });
    await s.run({ catalogs: ["AWS"], policy }); // nothing held yet
    const [inv] = seedHeld(s.p, 1);
    // Recorded without its expiring notice (a window of 1 ms at record time), as an older run would have.
    await s.desk.deps.store.recordHeld([
      {
        catalog: "AWS",
        identifier: inv!.identifier,
        otherParticipantIdentifier: "222233334444",
        connectionType: "OPPORTUNITY_COLLABORATION",
        inviterEmail: null,
        expiresAt: new Date(Date.now() + 40 * HOUR).toISOString(),
        rule: null,
        policyHash: policyHash(policy),
        seenAt: new Date().toISOString(),
      },
    ]);
    const worker = await s.p.startWorker({ HELD_CHECK_INTERVAL: "100ms", HELD_EXPIRY_NOTICE: "100h" });
    closers.push(() => worker.shutdown("test"));
    const handled: unknown[] = [];
    const consumer = consumeOutcomes((event) => void handled.push(event), { redis: s.p.redis, prefix: s.p.prefix });
    closers.push(() => consumer.close());
    await waitFor(
      () => handled.some((e) => isNotice(e as never) && (e as Notice).type === "invitation.expiring"),
      20_000,
    );
    expect(handled.filter((e) => (e as Notice).eventId === `notice:expiring:AWS.${inv!.identifier}`)).toHaveLength(1);
  }, 60_000);
});

describe("held invitations over HTTP", () => {
  it("lists, decides with the token's identity, answers 400 naming the field and 409 with the status", async () => {
    const s = await setup("held-http");
    const [a, b] = seedHeld(s.p, 2);
    await s.run({ catalogs: ["AWS"], policy });
    const token = "held-test-token-0123456789";
    const config = loadConfig({}, { ...s.p.config, HTTP_AUTH_TOKENS: token });
    const app = await buildHttpServer({
      producer: s.p.producer,
      held: s.desk,
      redis: s.p.redis,
      config,
      logger: createLogger({ level: "silent" }),
    });
    closers.push(() => app.close());
    await app.listen({ port: 0, host: "127.0.0.1" });
    const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    const call = (path: string, body?: unknown) =>
      fetch(`${base}${path}`, {
        method: body === undefined ? "GET" : "POST",
        headers: {
          authorization: `Bearer ${token}`,
          ...(body === undefined ? {} : { "content-type": "application/json" }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });

    const list = await call("/v1/held?limit=1");
    expect(list.status).toBe(200);
    const page = (await list.json()) as { items: Array<{ identifier: string }>; next: string };
    expect(page.items.map((i) => i.identifier)).toEqual([b!.identifier]);
    const rest = (await (await call(`/v1/held?limit=1&cursor=${page.next}`)).json()) as { items: unknown[] };
    expect(rest.items).toHaveLength(1);

    const bad = await call("/v1/held?limit=0&sort=x");
    expect(bad.status).toBe(400);
    expect(bad.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    expect(((await bad.json()) as { issues: Array<{ field: string }> }).issues.map((i) => i.field)).toEqual(["sort"]);

    const badBody = await call(`/v1/held/AWS/${a!.identifier}/decision`, { action: "maybe" });
    expect(badBody.status).toBe(400);
    expect(await badBody.json()).toMatchObject({ code: "INVALID_REQUEST", issues: [{ field: "action" }] });
    const reasonOnAccept = await call(`/v1/held/AWS/${a!.identifier}/decision`, { action: "accept", reason: "x" });
    expect(await reasonOnAccept.json()).toMatchObject({
      issues: [{ field: "reason", rule: 'only allowed with action "reject"' }],
    });

    // A named token records its name; one without the decide scope is refused.
    const access = accessStoreFromConfig({ QUEUE_PREFIX: s.p.prefix }, s.p.redis);
    const carol = await addToken(access, { name: "ops-carol", scopes: ["decide", "read"] });
    const reader = await addToken(access, { name: "dash-reader", scopes: ["read"] });
    const as = (secret: string, path: string, body: unknown) =>
      fetch(`${base}${path}`, {
        method: "POST",
        headers: { authorization: `Bearer ${secret}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    const forbidden = await as(reader.token, `/v1/held/AWS/${a!.identifier}/decision`, { action: "accept" });
    expect(forbidden.status).toBe(403);
    const ok = await as(carol.token, `/v1/held/AWS/${a!.identifier}/decision`, { action: "reject", reason: "no" });
    expect(ok.status).toBe(202);
    const decided = (await ok.json()) as { decidedBy: string; request: { jobId: string } };
    expect(decided.decidedBy).toBe("ops-carol");

    const conflict = await call(`/v1/held/AWS/${a!.identifier}/decision`, { action: "accept" });
    expect(conflict.status).toBe(409);
    expect(await conflict.json()).toMatchObject({
      code: "DECISION_CONFLICT",
      existing: { requestId: decided.request.jobId, action: "reject", decidedBy: "ops-carol" },
    });

    s.p.emulator.seedInvitation({ identifier: b!.identifier, status: "CANCELED" });
    await s.run({ catalogs: ["AWS"], policy });
    const gone = await call(`/v1/held/AWS/${b!.identifier}/decision`, { action: "accept" });
    expect(gone.status).toBe(409);
    expect(await gone.json()).toMatchObject({ code: "INVITATION_NOT_PENDING", invitationStatus: "CANCELED" });
  }, 60_000);
});
