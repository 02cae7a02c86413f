import { afterEach, describe, expect, it } from "vitest";
import { startPipeline, TEST_CREDENTIALS, type Pipeline } from "../helpers/pipeline.js";
import { waitForOutcomes } from "../helpers/outcomes.js";
import { createSdkInvitationApi } from "../../src/aws/sdk-invitation-api.js";
import { createDiscovery, type Discovery } from "../../src/app/discovery.js";
import { pacingFromConfig, rateLimiterFromConfig } from "../../src/app/from-config.js";
import { PartnerCentralCallError } from "../../src/errors/index.js";
import { deriveClientToken } from "../../src/request-record/identity.js";
import type { DiscoveryPolicy } from "../../src/schemas/policy.js";
import { waitFor } from "../helpers/wait.js";

let p: Pipeline | undefined;
const apis: Array<{ destroy(): void }> = [];
afterEach(async () => {
  for (const a of apis.splice(0)) a.destroy();
  await p?.close();
  p = undefined;
});

function discoveryOf(pl: Pipeline, config = pl.config): Discovery {
  const api = createSdkInvitationApi({ endpoint: pl.emulator.url, credentials: TEST_CREDENTIALS });
  apis.push(api);
  return createDiscovery({
    api,
    pacing: pacingFromConfig(config, rateLimiterFromConfig(config, pl.redis)),
    producer: pl.producer,
  });
}

const ACME = "111122223333";
const policy: DiscoveryPolicy = {
  default: "hold",
  rules: [
    { action: "accept", when: { otherParticipantIdentifiers: [ACME] } },
    {
      action: "reject",
      reason: "We do not take subsidiaries from Globex",
      when: { connectionTypes: ["SUBSIDIARY"], inviterEmailDomains: ["globex.example"] },
    },
  ],
};

describe("discover", () => {
  it(
    "pages through the pending invitations sent to us, decides each " +
      "by the policy, enqueues accepts and rejects, holds the rest",
    async () => {
      p = await startPipeline({ label: "discover" });
      // 32 pending (4 partners × 2 types × 4), plus some that are not waiting for us.
      const pending = p.emulator.seedInvitations(32);
      p.emulator.seedInvitations(4, { status: "ACCEPTED" });
      p.emulator.seedInvitations(4, { participantType: "SENDER" });
      p.emulator.seedInvitations(3, { catalog: "Sandbox" });
      const run = discoveryOf(p);
      const s = await run({ catalogs: ["AWS"], policy, pageSize: 7 });

      const acme = pending.filter((i) => i.otherParticipantIdentifier === ACME);
      const globexSub = pending.filter(
        (i) => i.inviterEmail.endsWith("@globex.example") && i.connectionType === "SUBSIDIARY",
      );
      expect(acme.length).toBe(8);
      expect(globexSub.length).toBe(4);
      expect(s).toMatchObject({
        dryRun: false,
        catalogs: ["AWS"],
        found: 32,
        enqueued: { accept: 8, reject: 4 },
        duplicates: 0,
        conflicts: 0,
        held: 20,
      });
      expect(s.calls.list).toBe(5); // 32 at 7 a page
      // The e-mail is read only where the rest of the reject rule held: the 16 non-Acme SUBSIDIARY ones.
      expect(s.calls.get).toBe(12);
      expect(p.emulator.calls({ operation: "GetConnectionInvitation" })).toHaveLength(12);
      for (const c of p.emulator.calls({ operation: "ListConnectionInvitations" })) {
        expect(c.input).toMatchObject({
          Catalog: "AWS",
          ParticipantType: "RECEIVER",
          Status: "PENDING",
          MaxResults: 7,
        });
      }
      expect(new Set(s.invitations.map((i) => i.identifier))).toEqual(new Set(pending.map((i) => i.identifier)));
      for (const i of s.invitations) {
        const expected = acme.some((a) => a.identifier === i.identifier)
          ? "accept"
          : globexSub.some((g) => g.identifier === i.identifier)
            ? "reject"
            : "hold";
        expect(i.decision, i.identifier).toBe(expected);
        expect(i.result).toBe(expected === "hold" ? "held" : "enqueued");
        expect(i.rule).toBe(expected === "accept" ? 0 : expected === "reject" ? 1 : null);
      }
      // The jobs: default keys, the right action and reason, the derived token of that action.
      const jobs = await p.producer.queue.getJobs(["waiting"]);
      expect(jobs).toHaveLength(12);
      for (const job of jobs) {
        const req = job.data.request;
        const reject = globexSub.some((g) => g.identifier === req.identifier);
        expect(req.action).toBe(reject ? "reject" : undefined);
        expect(req.reason).toBe(reject ? "We do not take subsidiaries from Globex" : undefined);
        expect(job.data.idempotencyKey).toBe(`AWS.${req.identifier}`);
        expect(job.data.clientToken).toBe(deriveClientToken(`AWS.${req.identifier}`, reject ? "reject" : "accept"));
        expect(req.correlationId).toBe(`discover-${s.runId}`);
      }

      // Running it again enqueues nothing twice.
      const again = await run({ catalogs: ["AWS"], policy, pageSize: 7 });
      expect(again).toMatchObject({
        found: 32,
        enqueued: { accept: 0, reject: 0 },
        duplicates: 12,
        held: 20,
        conflicts: 0,
      });
      expect(await p.producer.queue.count()).toBe(12);

      // And the worker does what was decided.
      await p.startWorker();
      const events = await waitForOutcomes(p.redis, p.prefix, 12);
      expect(events.filter((e) => e.type === "accepted")).toHaveLength(8);
      expect(events.filter((e) => e.type === "rejected")).toHaveLength(4);
      for (const i of pending) {
        const status = p.emulator.getInvitation("AWS", i.identifier)!.Status;
        expect(status).toBe(acme.includes(i) ? "ACCEPTED" : globexSub.includes(i) ? "REJECTED" : "PENDING");
      }
    },
  );

  it(
    "reports an invitation the policy now decides otherwise than " +
      "an existing request as a conflict, and enqueues the rest",
    async () => {
      p = await startPipeline({ label: "discover-conflict" });
      const [first, second, third] = p.emulator.seedInvitations(3);
      const earlier = await p.producer.enqueue({ catalog: "AWS", identifier: second!.identifier });
      const s = await discoveryOf(p)({ catalogs: ["AWS"], policy: { default: "reject", rules: [] } });
      expect(s).toMatchObject({ found: 3, enqueued: { accept: 0, reject: 2 }, conflicts: 1, duplicates: 0 });
      const conflict = s.invitations.find((i) => i.identifier === second!.identifier)!;
      expect(conflict).toMatchObject({
        decision: "reject",
        result: "conflict",
        existingJobId: earlier.jobId,
        differences: ["action"],
      });
      for (const inv of [first!, third!])
        expect(s.invitations.find((i) => i.identifier === inv.identifier)).toMatchObject({ result: "enqueued" });
    },
  );

  it("in a dry run decides the same and writes nothing; after a real run it reports the duplicates", async () => {
    p = await startPipeline({ label: "discover-dry" });
    p.emulator.seedInvitations(10);
    const run = discoveryOf(p);
    const dry = await run({ catalogs: ["AWS"], policy, dryRun: true });
    expect(dry).toMatchObject({ dryRun: true, found: 10, enqueued: { accept: 4, reject: 1 }, duplicates: 0, held: 5 });
    expect(dry.invitations.filter((i) => i.result === "enqueued").every((i) => i.jobId === null)).toBe(true);
    // Nothing written: no job, no record (BullMQ's queue meta aside).
    expect(
      (await p.redis.keys(`${p.prefix}:accept-invitation:*`)).filter((k) => !/:(meta|id|events)$/.test(k)),
    ).toEqual([]);
    expect(await p.producer.queue.count()).toBe(0);
    const real = await run({ catalogs: ["AWS"], policy });
    expect(real).toMatchObject({ dryRun: false, enqueued: dry.enqueued, held: dry.held });
    const dryAfter = await run({ catalogs: ["AWS"], policy, dryRun: true });
    expect(dryAfter).toMatchObject({ enqueued: { accept: 0, reject: 0 }, duplicates: 5 });
  });

  it(
    "passes every call through the shared limit: a throttled " + "page lowers the shared rate and is tried again",
    async () => {
      p = await startPipeline({ label: "discover-throttle" });
      p.emulator.seedInvitations(5);
      p.emulator.script({ operation: "ListConnectionInvitations", times: 1, error: "ThrottlingException" });
      const limiter = rateLimiterFromConfig(p.config, p.redis);
      const s = await discoveryOf(p)({ catalogs: ["AWS"], policy: { default: "accept", rules: [] } });
      expect(s).toMatchObject({ found: 5, enqueued: { accept: 5, reject: 0 } });
      expect(p.emulator.calls({ operation: "ListConnectionInvitations" })).toHaveLength(2);
      const state = await limiter.getState(p.config.RATE_LIMIT_KEY);
      expect(state.throttles).toBeGreaterThanOrEqual(1);
      expect(state.rate).toBeLessThan(state.ceiling);
    },
  );

  it("ends with a typed error naming the call when AWS refuses the listing", async () => {
    p = await startPipeline({ label: "discover-denied" });
    p.emulator.script({
      operation: "ListConnectionInvitations",
      times: 1,
      error: "AccessDeniedException",
      reason: "ACCESS_DENIED",
    });
    const err = await discoveryOf(p)({ catalogs: ["AWS"], policy }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PartnerCentralCallError);
    expect(err).toMatchObject({
      code: "AWS_ERROR",
      operation: "ListConnectionInvitations",
      errorName: "AccessDeniedException",
      reason: "ACCESS_DENIED",
      httpStatus: 403,
    });
  });
});

describe("discover against a list API that does not end its listing", () => {
  it(
    "ends with RepeatedNextToken naming the operation and catalog when a page answers the token it was " +
      "asked with, after two pages; what the two pages decided stands",
    async () => {
      p = await startPipeline({ label: "discover-same-token" });
      const seeded = p.emulator.seedInvitations(6);
      p.emulator.setSwitches({ repeatNextToken: "same" });
      const err = await discoveryOf(p)({ catalogs: ["AWS"], policy: { default: "accept", rules: [] }, pageSize: 2 })
        .then(() => expect.unreachable("the discovery ended"))
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(PartnerCentralCallError);
      expect(err).toMatchObject({
        code: "AWS_ERROR",
        operation: "ListConnectionInvitations",
        errorName: "RepeatedNextToken",
      });
      expect((err as Error).message).toBe(
        "ListConnectionInvitations failed: RepeatedNextToken: catalog AWS: page 2 answered the NextToken page 1 had " +
          "answered, so the listing would go round for ever; stopped after 2 pages (what was enqueued so far stands)",
      );
      // The bound: two pages read, not one more.
      expect(p.emulator.calls({ operation: "ListConnectionInvitations" })).toHaveLength(2);
      const jobs = await p.producer.queue.getJobs(["waiting"]);
      expect(jobs.map((j) => j.data.request.identifier).sort()).toEqual(
        seeded
          .slice(0, 4)
          .map((i) => i.identifier)
          .sort(),
      );
    },
  );

  it(
    "detects a token seen pages before, not only the last one: a listing " + "that wraps round ends after one round",
    async () => {
      p = await startPipeline({ label: "discover-wrap-token" });
      p.emulator.seedInvitations(5);
      p.emulator.setSwitches({ repeatNextToken: "wrap" });
      const err = await discoveryOf(p)({ catalogs: ["AWS"], policy: HOLD, pageSize: 2 }).catch((e: unknown) => e);
      expect(err).toMatchObject({ operation: "ListConnectionInvitations", errorName: "RepeatedNextToken" });
      expect((err as Error).message).toContain("catalog AWS: page 4 answered the NextToken page 1 had answered");
      // Pages 1-3 (the 5 invitations), then page 1 again, whose token ends it.
      expect(p.emulator.calls({ operation: "ListConnectionInvitations" })).toHaveLength(4);
    },
  );

  it("ends with TooManyPages after maxPages pages of a listing that still has a NextToken", async () => {
    p = await startPipeline({ label: "discover-max-pages" });
    p.emulator.seedInvitations(7);
    const run = discoveryOf(p);
    const err = await run({ catalogs: ["AWS"], policy: HOLD, pageSize: 2, maxPages: 3 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PartnerCentralCallError);
    expect(err).toMatchObject({ operation: "ListConnectionInvitations", errorName: "TooManyPages" });
    expect((err as Error).message).toContain(
      "catalog AWS: the listing still had a NextToken after 3 pages (DISCOVERY_MAX_PAGES)",
    );
    expect(p.emulator.calls({ operation: "ListConnectionInvitations" })).toHaveLength(3);
    // Exactly maxPages pages is no error.
    const s = await run({ catalogs: ["AWS"], policy: HOLD, pageSize: 2, maxPages: 4 });
    expect(s).toMatchObject({ found: 7, held: 7, calls: { list: 4 } });
  });

  it("lists at most maxListed invitations in the summary, with exact counts and invitationsOmitted", async () => {
    p = await startPipeline({ label: "discover-max-listed" });
    const seeded = p.emulator.seedInvitations(25);
    const s = await discoveryOf(p)({
      catalogs: ["AWS"],
      policy: { default: "accept", rules: [] },
      pageSize: 10,
      maxListed: 7,
    });
    expect(s).toMatchObject({ found: 25, enqueued: { accept: 25, reject: 0 }, invitationsOmitted: 18 });
    expect(s.invitations.map((i) => i.identifier)).toEqual(seeded.slice(0, 7).map((i) => i.identifier));
    expect(s.invitations.every((i) => i.result === "enqueued" && typeof i.jobId === "string")).toBe(true);
    expect(await p.producer.queue.count()).toBe(25);
  });

  it(
    "stops when its signal is aborted while waiting for a slot of the shared limit: the slot is not " +
      "taken, no call is sent after the abort, and the run rejects with the signal's reason",
    async () => {
      // One call per 2 s: the second page waits for its slot.
      p = await startPipeline({ label: "discover-abort", config: { RATE_LIMIT_RPS: 0.5, RATE_LIMIT_BURST: 1 } });
      p.emulator.seedInvitations(4);
      const config = p.config;
      const run = discoveryOf(p, config);
      const stop = new AbortController();
      const reason = new Error("the caller left");
      const running = run({ catalogs: ["AWS"], policy: HOLD, pageSize: 2, signal: stop.signal }).catch(
        (e: unknown) => e,
      );
      await waitFor(() => p!.emulator.calls({ operation: "ListConnectionInvitations" }).length === 1, 15_000);
      stop.abort(reason);
      expect(await running).toBe(reason);
      // Past the slot the run was waiting for (2 s after the first call; waited generously): had it
      // taken that slot, the limit would count two admissions in the last minute.
      await new Promise((r) => setTimeout(r, 5000));
      const state = await rateLimiterFromConfig(config, p.redis).getState(config.RATE_LIMIT_KEY);
      expect(state.retryBudget.callsLastMinute).toBe(1);
      expect(p.emulator.calls({ operation: "ListConnectionInvitations" })).toHaveLength(1);
    },
  );
});

const HOLD: DiscoveryPolicy = { default: "hold", rules: [] };
