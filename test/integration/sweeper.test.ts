/**
 * No path may end a request without its outcome. Each test loses a request's job in one of the
 * ways it happens (removed by hand, failed by BullMQ without an outcome, left in no state set by a
 * half-run script, unreadable data) and checks that the sweeper finishes the request with exactly
 * one outcome, reconciling with the API first.
 */
import { Worker, UnrecoverableError } from "bullmq";
import { afterEach, describe, expect, it } from "vitest";
import { startPipeline, TEST_CREDENTIALS, type Pipeline } from "../helpers/pipeline.js";
import { createSdkInvitationApi } from "../../src/aws/sdk-invitation-api.js";
import { waitForOutcomes, countOutcomes } from "../helpers/outcomes.js";
import { waitFor } from "../helpers/wait.js";
import { newRedis } from "../helpers/redis.js";
import { idempotencyRecordKey, openRecordsKey } from "../../src/store/redis/keys.js";
import { accept } from "../../src/operations/accept.js";
import { parseRecord } from "../../src/request-record/record.js";

let p: Pipeline | undefined;
afterEach(async () => {
  await p?.close();
  p = undefined;
});

/** A worker that sweeps only when told (no timer), with no grace. */
const manualSweeper = { SWEEP_INTERVAL_MS: 0, SWEEP_GRACE_MS: 0 };

describe("the sweeper", () => {
  it(
    "never sends a job whose id cannot carry an outcome (added without a jobId: " +
      "BullMQ numbers it), and such a job does not keep the sweeper from the others",
    async () => {
      p = await startPipeline({ label: "sweep-foreign" });
      const [foreignInv, lostInv] = p.emulator.seedInvitations(2);
      // A well-formed request's data, added by hand without a jobId: BullMQ gives it the id "1",
      // under which no outcome can ever be stored (BullMQ refuses a number as a custom id).
      const data = {
        v: 1,
        request: {
          catalog: foreignInv!.catalog,
          identifier: foreignInv!.identifier,
          clientToken: "tok-foreign",
          correlationId: "c",
        },
        clientToken: "tok-foreign",
        idempotencyKey: `${foreignInv!.catalog}.${foreignInv!.identifier}`,
        enqueuedAt: new Date().toISOString(),
        throttleRequeues: 0,
      };
      const foreign = await p.producer.queue.add("accept", data, { attempts: 3 });
      expect(foreign.id).toMatch(/^\d+$/);
      const lost = await p.producer.enqueue({ catalog: lostInv!.catalog, identifier: lostInv!.identifier });
      await p.producer.queue.remove(lost.jobId);
      const w = await p.startWorker(manualSweeper);
      await waitFor(
        async () => ((await p!.producer.queue.getJobState(foreign.id!)) === "failed" ? true : undefined),
        20_000,
        "the foreign job to fail",
      );
      const failed = await p.producer.queue.getJob(foreign.id!);
      expect(failed).toMatchObject({
        attemptsMade: 1,
        failedReason: expect.stringContaining("cannot carry an outcome"),
      });
      expect(p.emulator.calls({ identifier: foreignInv!.identifier })).toEqual([]);
      // The sweeper leaves it alone, and finishes the other request.
      expect(await w.sweep()).toMatchObject({ failedJobsChecked: 1, notRequests: 1, revived: 1 });
      const events = await waitForOutcomes(p.redis, p.prefix, 1);
      expect(events.map((e) => [e.requestId, e.type])).toEqual([[lost.jobId, "accepted"]]);
      expect(p.emulator.calls({ identifier: foreignInv!.identifier })).toEqual([]);
    },
  );

  it("gives a request whose job was removed its job back, and it is accepted once", async () => {
    p = await startPipeline({ label: "sweep-removed" });
    const inv = p.emulator.seedInvitation();
    const r = await p.producer.enqueue({ catalog: inv.catalog, identifier: inv.identifier });
    await p.producer.queue.remove(r.jobId);
    const w = await p.startWorker(manualSweeper);
    expect(await w.sweep()).toMatchObject({ revived: 1, finished: 0 });
    const [event] = await waitForOutcomes(p.redis, p.prefix, 1);
    expect(event).toMatchObject({
      type: "accepted",
      requestId: r.jobId,
      clientToken: r.clientToken,
      alreadyAccepted: false,
    });
    // The record left the open index when it completed; a second sweep finds nothing to do.
    const recordKey = idempotencyRecordKey(p.prefix, "accept-invitation", r.idempotencyKey);
    await waitFor(
      async () => ((await p!.redis.zscore(openRecordsKey(recordKey), recordKey)) === null ? true : undefined),
      10_000,
      "the record to close",
    );
    expect(await w.sweep()).toMatchObject({ recordsChecked: 0, revived: 0, finished: 0 });
  });

  it(
    "finishes a job BullMQ failed without an outcome: PENDING " +
      "→ run again; ACCEPTED meanwhile → accepted without a call",
    async () => {
      p = await startPipeline({ label: "sweep-failed" });
      const [pending, acceptedMeanwhile] = p.emulator.seedInvitations(2);
      const results = await p.producer.enqueueMany(
        [pending, acceptedMeanwhile].map((i) => ({ catalog: i!.catalog, identifier: i!.identifier })),
      );
      // Something fails both jobs without publishing an outcome (as a worker that could not write one would).
      const connection = newRedis();
      const rogue = new Worker(
        "accept-invitation",
        async () => {
          throw new UnrecoverableError("lost");
        },
        { connection, prefix: p.prefix },
      );
      await waitFor(
        async () => ((await p!.producer.queue.getJobCountByTypes("failed")) === 2 ? true : undefined),
        20_000,
        "both jobs to fail",
      );
      await rogue.close();
      connection.disconnect();
      // One of them was in fact accepted, by a call (same ClientToken) whose answer was lost.
      const sdk = createSdkInvitationApi({ endpoint: p.emulator.url, credentials: TEST_CREDENTIALS });
      await accept.call(sdk, {
        catalog: acceptedMeanwhile!.catalog,
        identifier: acceptedMeanwhile!.identifier,
        clientToken: results[1]!.clientToken,
        request: {},
      });
      sdk.destroy();

      const w = await p.startWorker(manualSweeper);
      const report = await w.sweep();
      expect(report).toMatchObject({ failedJobsChecked: 2 });
      const events = await waitForOutcomes(p.redis, p.prefix, 2);
      const byId = Object.fromEntries(events.map((e) => [e.requestId, e]));
      expect(byId[results[0]!.jobId]).toMatchObject({ type: "accepted", alreadyAccepted: false, attempts: 1 });
      expect(byId[results[1]!.jobId]).toMatchObject({ type: "accepted", alreadyAccepted: true });
      // Only the lost call: the sweeper reconciled instead of calling Accept again.
      expect(
        p.emulator.calls({ operation: "AcceptConnectionInvitation", identifier: acceptedMeanwhile!.identifier }),
      ).toHaveLength(1);
    },
  );

  it(
    "stops at a look-up AWS refuses for the worker's own " +
      "fault: nothing finished, the rest left for the next sweep",
    async () => {
      p = await startPipeline({ label: "sweep-fault" });
      const invs = p.emulator.seedInvitations(2);
      await p.producer.enqueueMany(invs.map((i) => ({ catalog: i.catalog, identifier: i.identifier })));
      const connection = newRedis();
      const rogue = new Worker(
        "accept-invitation",
        async () => {
          throw new UnrecoverableError("lost");
        },
        { connection, prefix: p.prefix },
      );
      await waitFor(
        async () => ((await p!.producer.queue.getJobCountByTypes("failed")) === 2 ? true : undefined),
        20_000,
        "both jobs to fail",
      );
      await rogue.close();
      connection.disconnect();
      p.emulator.script({ operation: "GetConnectionInvitation", times: 1, error: "UnrecognizedClientException" });

      const w = await p.startWorker(manualSweeper);
      expect(await w.sweep()).toEqual({
        recordsChecked: 0,
        failedJobsChecked: 1,
        live: 0,
        revived: 0,
        finished: 0,
        deferred: 1,
        notRequests: 0,
        fault: "UnrecognizedClientException",
        retryFailedFrom: expect.any(Number),
      });
      expect(p.emulator.calls({ operation: "GetConnectionInvitation" })).toHaveLength(1);
      expect(await countOutcomes(p.redis, p.prefix)).toBe(0);
      // The fault is over: the next sweep looks at both again (same cursor) and gives them back.
      expect(await w.sweep()).toMatchObject({ failedJobsChecked: 2, revived: 2, deferred: 0 });
      const events = await waitForOutcomes(p.redis, p.prefix, 2);
      expect(events.map((e) => e.type)).toEqual(["accepted", "accepted"]);
    },
  );

  it(
    "a job BullMQ gave up on (its worker lost) whose invitation is still PENDING gets no outcome from the " +
      "worker (a lost run's call may still land); the sweep gives it back and it is accepted, its ClientToken kept",
    async () => {
      p = await startPipeline({ label: "sweep-abandoned" });
      const inv = p.emulator.seedInvitation();
      const r = await p.producer.enqueue({ catalog: inv.catalog, identifier: inv.identifier });
      // A worker takes the job and dies holding it, before any call: its lock is not renewed.
      const connection = newRedis();
      const lost = new Worker("accept-invitation", () => new Promise<never>(() => undefined), {
        connection,
        prefix: p.prefix,
        lockDuration: 1000,
        skipStalledCheck: true,
      });
      try {
        await waitFor(
          async () => ((await p!.producer.queue.getJobCountByTypes("active")) === 1 ? true : undefined),
          20_000,
          "the lost worker to take the job",
        );
        await lost.close(true);
      } finally {
        connection.disconnect();
      }
      // No stalled job is taken again: BullMQ fails it, and the worker's 'failed' handler reads the invitation.
      const w = await p.startWorker({ ...manualSweeper, MAX_STALLED_COUNT: 0, STALLED_INTERVAL_MS: 300 });
      await waitFor(
        () => p!.emulator.calls({ operation: "GetConnectionInvitation" }).length > 0 || undefined,
        30_000,
        "the failed handler's read",
      );
      await waitFor(
        async () => ((await p!.producer.queue.getJobState(r.jobId)) === "failed" ? true : undefined),
        10_000,
        "the job to be failed",
      );
      expect(await w.sweep()).toMatchObject({ revived: 1 });
      await waitFor(
        async () => ((await p!.producer.queue.getJobState(r.jobId)) === "completed" ? true : undefined),
        20_000,
        "the revived job to complete",
      );
      const events = await waitForOutcomes(p.redis, p.prefix, 1);
      expect(events).toMatchObject([{ type: "accepted", requestId: r.jobId, alreadyAccepted: false }]);
      expect(await countOutcomes(p.redis, p.prefix)).toBe(1);
      expect(p.emulator.calls({ operation: "AcceptConnectionInvitation" }).map((c) => c.clientToken)).toEqual([
        r.clientToken,
      ]);
    },
  );

  it("re-adds a job left in no state set (a script cut short on a full Redis)", async () => {
    p = await startPipeline({ label: "sweep-orphan" });
    const inv = p.emulator.seedInvitation();
    const r = await p.producer.enqueue({ catalog: inv.catalog, identifier: inv.identifier });
    await p.redis.lrem(`${p.prefix}:accept-invitation:wait`, 0, r.jobId);
    expect(await p.producer.queue.getJobState(r.jobId)).toBe("unknown");
    const w = await p.startWorker(manualSweeper);
    expect(await w.sweep()).toMatchObject({ revived: 1 });
    const [event] = await waitForOutcomes(p.redis, p.prefix, 1);
    expect(event).toMatchObject({ type: "accepted", requestId: r.jobId });
  });

  it("ends a request failed (JobLost) once its job has been given back SWEEP_MAX_REVIVALS times", async () => {
    p = await startPipeline({ label: "sweep-giveup" });
    const inv = p.emulator.seedInvitation();
    const r = await p.producer.enqueue({ catalog: inv.catalog, identifier: inv.identifier });
    await p.producer.queue.remove(r.jobId);
    const w = await p.startWorker({ ...manualSweeper, SWEEP_MAX_REVIVALS: 0 });
    expect(await w.sweep()).toMatchObject({ finished: 1, revived: 0 });
    const [event] = await waitForOutcomes(p.redis, p.prefix, 1);
    expect(event).toMatchObject({
      type: "failed",
      requestId: r.jobId,
      error: { name: "RetriesExhausted", reason: "JobLost" },
    });
    expect(p.emulator.calls({ operation: "AcceptConnectionInvitation" })).toHaveLength(0);
  });

  it.each([
    ["data", "{{{not json"],
    ["opts", "\u0000\u0001binary"],
  ])(
    "rebuilds a job whose %s is not JSON from its record: one outcome, the real one, without the next sweep",
    async (field, garbage) => {
      p = await startPipeline({ label: "sweep-unreadable" });
      const inv = p.emulator.seedInvitation();
      const r = await p.producer.enqueue({ catalog: inv.catalog, identifier: inv.identifier, metadata: { n: 1 } });
      await p.redis.hset(`${p.prefix}:accept-invitation:${r.jobId}`, field, garbage);
      // No periodic sweep: the worker's own parse error triggers the repair.
      await p.startWorker({ ...manualSweeper, STALLED_INTERVAL_MS: 1000, LOCK_DURATION_MS: 2000 });
      const [event] = await waitForOutcomes(p.redis, p.prefix, 1, { timeoutMs: 30_000 });
      expect(event).toMatchObject({
        type: "accepted",
        requestId: r.jobId,
        alreadyAccepted: false,
        metadata: { n: 1 },
        clientToken: r.clientToken,
      });
      const accepts = p.emulator.calls({ operation: "AcceptConnectionInvitation" });
      expect(accepts.map((c) => c.input.ClientToken)).toEqual([r.clientToken]);
      // The job's options are the request job's again (its attempts), and its record is completed.
      const job = await p.producer.queue.getJob(r.jobId);
      expect(job?.opts.attempts).toBe(p.config.JOB_ATTEMPTS);
      const record = parseRecord(
        await p.redis.hgetall(idempotencyRecordKey(p.prefix, "accept-invitation", r.idempotencyKey)),
      );
      expect(record).toMatchObject({ state: "completed", jobId: r.jobId });
      await new Promise((res) => setTimeout(res, 500));
      expect(await countOutcomes(p.redis, p.prefix)).toBe(1);
    },
  );

  it(
    "a job whose data is lost and that has no record ends InvalidJob; its " +
      "record, when it turns up, is completed with it",
    async () => {
      p = await startPipeline({ label: "sweep-no-record" });
      const inv = p.emulator.seedInvitation();
      const req = { catalog: inv.catalog, identifier: inv.identifier, idempotencyKey: "order-77" };
      const r = await p.producer.enqueue(req);
      const recordKey = idempotencyRecordKey(p.prefix, "accept-invitation", r.idempotencyKey);
      // The record is out of reach for a while (a partial restore, say), and the job's data is lost.
      await p.redis.rename(recordKey, `${recordKey}-away`);
      await p.redis.hset(`${p.prefix}:accept-invitation:${r.jobId}`, "data", "{{{not json");
      const w = await p.startWorker({ ...manualSweeper, STALLED_INTERVAL_MS: 1000, LOCK_DURATION_MS: 2000 });
      const [event] = await waitForOutcomes(p.redis, p.prefix, 1, { timeoutMs: 30_000 });
      expect(event).toMatchObject({ type: "failed", requestId: r.jobId, error: { name: "InvalidJob" } });
      expect(p.emulator.calls({ operation: "AcceptConnectionInvitation" })).toHaveLength(0);
      // The record is back, still queued: the sweeper completes it with the request's one outcome.
      await p.redis.rename(`${recordKey}-away`, recordKey);
      await p.redis.zadd(`${p.prefix}:accept-invitation:idem-open`, 0, recordKey);
      expect(await w.sweep()).toMatchObject({ finished: 1 });
      expect(parseRecord(await p.redis.hgetall(recordKey))).toMatchObject({ state: "completed", jobId: r.jobId });
      expect(await p.redis.ttl(recordKey)).toBeGreaterThan(0);
      expect(await p.producer.enqueue(req)).toMatchObject({
        duplicate: true,
        state: "completed",
        outcome: { type: "failed", error: { name: "InvalidJob" } },
      });
    },
  );
});
