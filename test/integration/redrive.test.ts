import { afterEach, describe, expect, it } from "vitest";
import { Queue } from "bullmq";
import { startPipeline, type Pipeline } from "../helpers/pipeline.js";
import { waitForOutcomes } from "../helpers/outcomes.js";
import { createRequestControl, type RequestControl } from "../../src/app/request-control.js";
import { deriveClientToken } from "../../src/request-record/identity.js";
import { idempotencyRecordKey } from "../../src/store/redis/keys.js";
import { parseRecord } from "../../src/request-record/record.js";
import { jobDataFromRecord } from "../../src/consumer/sweep.js";
import { IdempotencyConflictError } from "../../src/errors/index.js";
import { readFailedOutcomes } from "../../src/store/redis/failed-outcomes.js";
import { consumeOutcomes } from "../../src/outcomes/consume.js";
import type { AcceptedOutcome, FailedOutcome, OutcomeEvent, RejectedOutcome } from "../../src/schemas/outcome.js";

let p: Pipeline | undefined;
let control: RequestControl | undefined;
afterEach(async () => {
  await control?.close();
  control = undefined;
  await p?.close();
  p = undefined;
});
const calls = (pl: Pipeline, operation: string, identifier: string) => pl.emulator.calls({ operation, identifier });
const byId = (events: OutcomeEvent[], requestId: string) => events.find((e) => e.requestId === requestId)!;

/** A pipeline where `denied` invitations fail once with AccessDeniedException, then AWS stops denying. */
async function withFailures(label: string) {
  const pl = await startPipeline({ label });
  p = pl;
  control = createRequestControl(pl.config, pl.redis, pl.producer);
  return pl;
}

describe("redrive", () => {
  it(
    "finds every failed outcome while a consumer drains " + "them (one snapshot of all states, not state by state)",
    async () => {
      const pl = await startPipeline({ label: "redrive-drain" });
      p = pl;
      // One real failure, then 2,000 more like it under their own ids, all waiting to be consumed.
      await pl.producer.enqueue({ catalog: "AWS", identifier: "pacinv-NOTFOUND00001" });
      await pl.startWorker();
      const [failure] = await waitForOutcomes(pl.redis, pl.prefix, 1);
      expect(failure).toMatchObject({ type: "failed" });
      const outcomes = new Queue("invitation-outcomes", { connection: pl.redis, prefix: pl.prefix });
      const N = 2000;
      const ids = Array.from({ length: N }, (_, i) => `AWS.pacinv-DRAIN${String(i).padStart(8, "0")}.x`);
      for (let i = 0; i < N; i += 500) {
        await outcomes.addBulk(
          ids
            .slice(i, i + 500)
            .map((id) => ({ name: "failed", data: { ...failure!, requestId: id, eventId: id }, opts: { jobId: id } })),
        );
      }
      const all = new Set([failure!.requestId, ...ids]);
      // A consumer drains them while the failures are read, again and again.
      const consumer = consumeOutcomes(() => {}, { redis: pl.redis, prefix: pl.prefix, concurrency: 16 });
      const counts: number[] = [];
      try {
        while ((await outcomes.getJobCountByTypes("waiting", "active")) > 0 || counts.length === 0) {
          const found = await readFailedOutcomes(outcomes, pl.redis);
          counts.push(found.filter((e) => all.has(e.requestId)).length);
        }
      } finally {
        await consumer.close(); // before the prefix is deleted, whatever happened
        await outcomes.close();
      }
      expect(counts.length).toBeGreaterThan(0);
      expect(new Set(counts)).toEqual(new Set([N + 1]));
    },
  );

  it(
    "runs again the AccessDeniedExceptions once AWS stops denying: new " +
      "request, new ClientToken, one new outcome; twice redrives once",
    async () => {
      const pl = await withFailures("redrive");
      const [denied, fine] = pl.emulator.seedInvitations(2);
      pl.emulator.script({
        operation: "AcceptConnectionInvitation",
        identifier: denied!.identifier,
        times: 1,
        error: "AccessDeniedException",
        reason: "ACCESS_DENIED",
      });
      const first = await pl.producer.enqueue({
        catalog: denied!.catalog,
        identifier: denied!.identifier,
        correlationId: "crm-1",
        metadata: { crm: 1 },
      });
      await pl.producer.enqueue({ catalog: fine!.catalog, identifier: fine!.identifier });
      await pl.producer.enqueue({ catalog: "AWS", identifier: "pacinv-NOTSEEDED0000" }); // ResourceNotFoundException
      await pl.startWorker();
      const before = await waitForOutcomes(pl.redis, pl.prefix, 3);
      expect(byId(before, first.jobId)).toMatchObject({ type: "failed", error: { name: "AccessDeniedException" } });

      const s = await control!.redrive({ errorNames: ["AccessDeniedException"] });
      expect(s).toMatchObject({ dryRun: false, found: 1, redriven: 1, duplicates: 0, conflicts: 0, skipped: 0 });
      const entry = s.requests[0]!;
      expect(entry).toMatchObject({
        requestId: first.jobId,
        error: "AccessDeniedException",
        result: "redriven",
        action: "accept",
      });
      expect(entry.jobId).not.toBe(first.jobId);
      expect(entry.jobId).toMatch(new RegExp(`^AWS\\.${denied!.identifier}\\.`));

      const after = await waitForOutcomes(pl.redis, pl.prefix, 4);
      const again = byId(after, entry.jobId!) as AcceptedOutcome;
      expect(again).toMatchObject({
        type: "accepted",
        alreadyAccepted: false,
        redriveOf: first.jobId,
        correlationId: "crm-1",
        metadata: { crm: 1 },
        action: "accept",
      });
      expect(again.clientToken).toBe(deriveClientToken(`redrive:${first.jobId}`));
      expect(again.clientToken).not.toBe(first.clientToken);
      // The invitation was read first, then accepted with the new token.
      expect(calls(pl, "GetConnectionInvitation", denied!.identifier)).toHaveLength(1);
      expect(calls(pl, "AcceptConnectionInvitation", denied!.identifier).map((c) => c.clientToken)).toEqual([
        first.clientToken,
        again.clientToken,
      ]);
      expect(pl.emulator.getInvitation(denied!.catalog, denied!.identifier)?.Status).toBe("ACCEPTED");

      // Redriving twice redrives once.
      const twice = await control!.redrive({ errorNames: ["AccessDeniedException"] });
      expect(twice).toMatchObject({ found: 1, redriven: 0, duplicates: 1 });
      expect(twice.requests[0]).toMatchObject({ result: "duplicate", jobId: entry.jobId });
      expect(await pl.producer.queue.count()).toBe(0);
    },
  );

  it("ends a redrive whose invitation is already accepted as accepted, without calling Accept", async () => {
    const pl = await withFailures("redrive-accepted");
    const inv = pl.emulator.seedInvitation();
    pl.emulator.script({
      operation: "AcceptConnectionInvitation",
      identifier: inv.identifier,
      times: 1,
      error: "AccessDeniedException",
    });
    const first = await pl.producer.enqueue({ catalog: inv.catalog, identifier: inv.identifier });
    await pl.startWorker();
    await waitForOutcomes(pl.redis, pl.prefix, 1);
    // Someone accepted it meanwhile, another way.
    await pl.producer.enqueue({ catalog: inv.catalog, identifier: inv.identifier, idempotencyKey: "by-hand" });
    await waitForOutcomes(pl.redis, pl.prefix, 2);
    const acceptsBefore = calls(pl, "AcceptConnectionInvitation", inv.identifier).length;

    const s = await control!.redrive({});
    expect(s).toMatchObject({ found: 1, redriven: 1 });
    const events = await waitForOutcomes(pl.redis, pl.prefix, 3);
    const e = byId(events, s.requests[0]!.jobId!) as AcceptedOutcome;
    expect(e).toMatchObject({ type: "accepted", alreadyAccepted: true, redriveOf: first.jobId, attempts: 0 });
    expect(e.connection?.Id).toBe(pl.emulator.getInvitation(inv.catalog, inv.identifier)?.ConnectionId);
    expect(calls(pl, "AcceptConnectionInvitation", inv.identifier)).toHaveLength(acceptsBefore);
  });

  it(
    "fails a redrive whose invitation is in a status " + "its action cannot change, naming it, without a call",
    async () => {
      const pl = await withFailures("redrive-final");
      const inv = pl.emulator.seedInvitation();
      pl.emulator.script({
        operation: "AcceptConnectionInvitation",
        identifier: inv.identifier,
        times: 1,
        error: "AccessDeniedException",
      });
      await pl.producer.enqueue({ catalog: inv.catalog, identifier: inv.identifier });
      await pl.startWorker();
      await waitForOutcomes(pl.redis, pl.prefix, 1);
      pl.emulator.seedInvitation({ catalog: inv.catalog, identifier: inv.identifier, status: "EXPIRED" });
      const s = await control!.redrive({ errorNames: ["AccessDeniedException"] });
      const events = await waitForOutcomes(pl.redis, pl.prefix, 2);
      const e = byId(events, s.requests[0]!.jobId!) as FailedOutcome;
      expect(e).toMatchObject({
        type: "failed",
        error: { name: "InvitationNotPending", invitationStatus: "EXPIRED", retryable: false },
        attempts: 0,
      });
      expect(calls(pl, "AcceptConnectionInvitation", inv.identifier)).toHaveLength(1);
    },
  );

  it(
    "redrives a reject as a reject, with its reason; one " + "found REJECTED meanwhile is rejected without a call",
    async () => {
      const pl = await withFailures("redrive-reject");
      const [a, b] = pl.emulator.seedInvitations(2);
      for (const inv of [a!, b!])
        pl.emulator.script({
          operation: "RejectConnectionInvitation",
          identifier: inv.identifier,
          times: 1,
          error: "AccessDeniedException",
        });
      await pl.producer.enqueueMany(
        [a!, b!].map((inv) => ({
          catalog: inv.catalog,
          identifier: inv.identifier,
          action: "reject",
          reason: "Not a fit",
        })),
      );
      await pl.startWorker();
      await waitForOutcomes(pl.redis, pl.prefix, 2);
      pl.emulator.seedInvitation({ catalog: b!.catalog, identifier: b!.identifier, status: "REJECTED" });
      const s = await control!.redrive({ errorNames: ["AccessDeniedException"] });
      expect(s).toMatchObject({ found: 2, redriven: 2 });
      const events = await waitForOutcomes(pl.redis, pl.prefix, 4);
      const redriven = events.filter((e) => e.redriveOf !== undefined) as RejectedOutcome[];
      const ea = redriven.find((e) => e.identifier === a!.identifier)!;
      const eb = redriven.find((e) => e.identifier === b!.identifier)!;
      expect(ea).toMatchObject({
        type: "rejected",
        action: "reject",
        rejectReason: "Not a fit",
        alreadyRejected: false,
      });
      expect(ea.clientToken).toBe(deriveClientToken(`redrive:${ea.redriveOf}`, "reject"));
      expect(calls(pl, "RejectConnectionInvitation", a!.identifier).map((c) => c.input.Reason)).toEqual([
        "Not a fit",
        "Not a fit",
      ]);
      expect(eb).toMatchObject({ type: "rejected", alreadyRejected: true });
      expect(calls(pl, "RejectConnectionInvitation", b!.identifier)).toHaveLength(1);
    },
  );

  it("filters by error name and by --since; a dry run lists and writes nothing", async () => {
    const pl = await withFailures("redrive-filter");
    const inv = pl.emulator.seedInvitation();
    pl.emulator.script({
      operation: "AcceptConnectionInvitation",
      identifier: inv.identifier,
      times: 1,
      error: "AccessDeniedException",
    });
    await pl.producer.enqueue({ catalog: inv.catalog, identifier: inv.identifier });
    await pl.producer.enqueue({ catalog: "AWS", identifier: "pacinv-NOTSEEDED0000" });
    await pl.startWorker();
    await waitForOutcomes(pl.redis, pl.prefix, 2);
    expect(await control!.redrive({ errorNames: ["ThrottlingException"], dryRun: true })).toMatchObject({ found: 0 });
    const both = await control!.redrive({
      errorNames: ["AccessDeniedException", "ResourceNotFoundException"],
      dryRun: true,
    });
    expect(both).toMatchObject({ dryRun: true, found: 2, redriven: 2 });
    expect(both.requests.every((r) => r.result === "redriven" && r.jobId === null)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await control!.redrive({ sinceMs: 10, dryRun: true })).toMatchObject({ found: 0 });
    expect(await control!.redrive({ sinceMs: 3_600_000, dryRun: true })).toMatchObject({ found: 2 });
    // Nothing written by the dry runs.
    expect(await pl.producer.queue.getJobCounts("waiting", "delayed", "prioritized")).toEqual({
      waiting: 0,
      delayed: 0,
      prioritized: 0,
    });
    const real = await control!.redrive({ errorNames: ["ResourceNotFoundException"] });
    expect(real).toMatchObject({ redriven: 1 });
    const dryAfter = await control!.redrive({ errorNames: ["ResourceNotFoundException"], dryRun: true });
    expect(dryAfter).toMatchObject({ redriven: 0, duplicates: 1 });
  });

  it("skips a failure whose request cannot be rebuilt (an InvalidJob)", async () => {
    const pl = await withFailures("redrive-invalid");
    const q = new Queue("accept-invitation", { connection: pl.redis, prefix: pl.prefix });
    await q.add("accept", { junk: true }, { jobId: "AWS.junk.1" });
    await q.close();
    await pl.startWorker();
    await waitForOutcomes(pl.redis, pl.prefix, 1);
    const s = await control!.redrive({});
    expect(s).toMatchObject({ found: 1, redriven: 0, skipped: 1 });
    expect(s.requests[0]!.detail).toContain("cannot be rebuilt");
  });

  it(
    "keeps redriveOf in the redrive's record (the sweeper rebuilds its " +
      "job with it), and a caller's own redrive:… key cannot pass for one",
    async () => {
      const pl = await withFailures("redrive-record");
      const [r] = await pl.producer.enqueueRedrives([
        {
          request: { catalog: "AWS", identifier: "pacinv-ABCDEFGHIJKLM", clientToken: "old-token" },
          redriveOf: "AWS.pacinv-ABCDEFGHIJKLM.old",
        },
      ]);
      expect(r!.idempotencyKey).toBe("redrive:AWS.pacinv-ABCDEFGHIJKLM.old");
      expect(r!.clientToken).toBe(deriveClientToken("redrive:AWS.pacinv-ABCDEFGHIJKLM.old"));
      const record = parseRecord(
        await pl.redis.hgetall(idempotencyRecordKey(pl.prefix, "accept-invitation", r!.idempotencyKey)),
      )!;
      const job = await pl.producer.queue.getJob(r!.jobId);
      expect(job!.data.redriveOf).toBe("AWS.pacinv-ABCDEFGHIJKLM.old");
      expect(jobDataFromRecord(record)).toEqual(job!.data);
      const err = await pl.producer
        .enqueue({
          catalog: "AWS",
          identifier: "pacinv-ABCDEFGHIJKLM",
          idempotencyKey: "redrive:AWS.pacinv-ABCDEFGHIJKLM.old",
        })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(IdempotencyConflictError);
      expect((err as IdempotencyConflictError).differences).toEqual(["redriveOf"]);
    },
  );
});
