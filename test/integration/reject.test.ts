import { afterEach, describe, expect, it } from "vitest";
import { startPipeline, type Pipeline } from "../helpers/pipeline.js";
import { waitForOutcomes } from "../helpers/outcomes.js";
import { IdempotencyConflictError } from "../../src/errors/index.js";
import { deriveClientToken } from "../../src/request-record/identity.js";
import { jobDataFromRecord } from "../../src/consumer/sweep.js";
import { idempotencyRecordKey } from "../../src/store/redis/keys.js";
import { parseRecord } from "../../src/request-record/record.js";
import {
  outcomeEventSchema,
  type AcceptedOutcome,
  type FailedOutcome,
  type RejectedOutcome,
} from "../../src/schemas/outcome.js";

let p: Pipeline | undefined;
afterEach(async () => {
  await p?.close();
  p = undefined;
});
const rejectCalls = (pl: Pipeline, identifier: string) =>
  pl.emulator.calls({ operation: "RejectConnectionInvitation", identifier });

describe("reject: a second action on the same guarantees", () => {
  it(
    "rejects with its own stable ClientToken and the Reason, " +
      "and ends as one rejected outcome with the invitation record",
    async () => {
      p = await startPipeline({ label: "reject" });
      const inv = p.emulator.seedInvitation({ catalog: "Sandbox" });
      const r = await p.producer.enqueue({
        catalog: "Sandbox",
        identifier: inv.identifier,
        action: "reject",
        reason: "Not a fit",
        metadata: { crm: 7 },
      });
      const key = `Sandbox.${inv.identifier}`;
      expect(r.clientToken).toBe(deriveClientToken(key, "reject"));
      expect(r.clientToken).not.toBe(deriveClientToken(key));
      await p.startWorker();
      const [e] = (await waitForOutcomes(p.redis, p.prefix, 1)) as RejectedOutcome[];
      expect(outcomeEventSchema.parse(e)).toEqual(e);
      expect(e).toMatchObject({
        type: "rejected",
        action: "reject",
        rejectReason: "Not a fit",
        alreadyRejected: false,
        attempts: 1,
        metadata: { crm: 7 },
      });
      expect(e!.clientToken).toBe(r.clientToken);
      expect(e!.invitation).toMatchObject({ Id: inv.identifier, Catalog: "Sandbox", Status: "REJECTED" });
      expect(e!.awsRequestId).toMatch(/.+/);
      expect(rejectCalls(p, inv.identifier).map((c) => [c.clientToken, c.input.Reason])).toEqual([
        [r.clientToken, "Not a fit"],
      ]);
      expect(p.emulator.calls({ operation: "AcceptConnectionInvitation" })).toHaveLength(0);
      expect(p.emulator.getInvitation("Sandbox", inv.identifier)?.Status).toBe("REJECTED");
      // The record completes with the outcome, and its job ends in BullMQ's completed set.
      expect(
        await p.producer.enqueue({
          catalog: "Sandbox",
          identifier: inv.identifier,
          action: "reject",
          reason: "Not a fit",
          metadata: { crm: 7 },
        }),
      ).toMatchObject({
        duplicate: true,
        state: "completed",
        outcome: e,
      });
      expect(await (await p.producer.queue.getJob(r.jobId))!.getState()).toBe("completed");
    },
  );

  it(
    "an accept and a reject of one invitation are one idempotency " +
      "key with different payloads: the second is a conflict",
    async () => {
      p = await startPipeline({ label: "reject-conflict" });
      const inv = p.emulator.seedInvitation();
      const accepted = await p.producer.enqueue({ catalog: inv.catalog, identifier: inv.identifier });
      const err = await p.producer
        .enqueue({ catalog: inv.catalog, identifier: inv.identifier, action: "reject", reason: "No" })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(IdempotencyConflictError);
      expect(err).toMatchObject({
        idempotencyKey: `${inv.catalog}.${inv.identifier}`,
        differences: ["action", "reason"],
        existingJobId: accepted.jobId,
      });
      // And the other way round; an explicit "accept" is the same request as no action at all.
      const other = p.emulator.seedInvitation();
      await p.producer.enqueue({ catalog: other.catalog, identifier: other.identifier, action: "reject" });
      await expect(
        p.producer.enqueue({ catalog: other.catalog, identifier: other.identifier, action: "accept" }),
      ).rejects.toMatchObject({ differences: ["action"] });
      expect(
        await p.producer.enqueue({ catalog: inv.catalog, identifier: inv.identifier, action: "accept" }),
      ).toMatchObject({ duplicate: true, jobId: accepted.jobId });
    },
  );

  it("reports an invitation found REJECTED after a ConflictException as rejected, alreadyRejected", async () => {
    p = await startPipeline({ label: "reject-already" });
    const inv = p.emulator.seedInvitation({ status: "REJECTED" });
    await p.producer.enqueue({ catalog: inv.catalog, identifier: inv.identifier, action: "reject" });
    await p.startWorker();
    const [e] = (await waitForOutcomes(p.redis, p.prefix, 1)) as RejectedOutcome[];
    expect(e).toMatchObject({
      type: "rejected",
      alreadyRejected: true,
      invitation: { Id: inv.identifier, Status: "REJECTED" },
    });
    expect(rejectCalls(p, inv.identifier)).toHaveLength(1);
    expect(p.emulator.calls({ operation: "GetConnectionInvitation", identifier: inv.identifier })).toHaveLength(1);
  });

  it("fails a reject whose invitation was accepted, naming the status; never reports it rejected", async () => {
    p = await startPipeline({ label: "reject-accepted" });
    const inv = p.emulator.seedInvitation({ status: "ACCEPTED" });
    await p.producer.enqueue({ catalog: inv.catalog, identifier: inv.identifier, action: "reject" });
    await p.startWorker();
    const [e] = (await waitForOutcomes(p.redis, p.prefix, 1)) as FailedOutcome[];
    expect(e).toMatchObject({
      type: "failed",
      action: "reject",
      error: { name: "ConflictException", invitationStatus: "ACCEPTED", retryable: false },
    });
    expect(e!.error.message).toContain("can no longer be rejected");
  });

  it(
    "reconciles a reject whose answers were lost: retries " +
      "exhausted after 5xx, the invitation is REJECTED → rejected",
    async () => {
      p = await startPipeline({ label: "reject-lost", retry: { attempts: 3 } });
      const inv = p.emulator.seedInvitation();
      // Every Reject is carried out, and every answer is a 500.
      p.emulator.script({
        operation: "RejectConnectionInvitation",
        identifier: inv.identifier,
        times: 3,
        error: "InternalServerException",
        applyFirst: true,
      });
      await p.producer.enqueue({ catalog: inv.catalog, identifier: inv.identifier, action: "reject" });
      await p.startWorker();
      const [e] = (await waitForOutcomes(p.redis, p.prefix, 1)) as RejectedOutcome[];
      expect(e).toMatchObject({ type: "rejected", alreadyRejected: true, attempts: 3 });
      // One token on every attempt.
      expect(new Set(rejectCalls(p, inv.identifier).map((c) => c.clientToken))).toEqual(new Set([e!.clientToken]));
    },
  );

  it("runs accepts and rejects side by side; the accept's outcome is as before, with action accept", async () => {
    p = await startPipeline({ label: "reject-mixed" });
    const [a, b] = p.emulator.seedInvitations(2);
    await p.producer.enqueueMany([
      { catalog: a!.catalog, identifier: a!.identifier },
      { catalog: b!.catalog, identifier: b!.identifier, action: "reject" },
    ]);
    await p.startWorker();
    const events = await waitForOutcomes(p.redis, p.prefix, 2);
    const accept = events.find((e) => e.identifier === a!.identifier) as AcceptedOutcome;
    const reject = events.find((e) => e.identifier === b!.identifier) as RejectedOutcome;
    expect(accept).toMatchObject({ type: "accepted", action: "accept", alreadyAccepted: false });
    expect(accept).not.toHaveProperty("rejectReason");
    expect(accept.clientToken).toBe(deriveClientToken(`${a!.catalog}.${a!.identifier}`));
    expect(reject).toMatchObject({ type: "rejected", action: "reject" });
    expect(reject).not.toHaveProperty("rejectReason");
  });

  it("the sweeper rebuilds a reject's job from its record, action and reason included", async () => {
    p = await startPipeline({ label: "reject-record" });
    const inv = p.emulator.seedInvitation();
    const r = await p.producer.enqueue({
      catalog: inv.catalog,
      identifier: inv.identifier,
      action: "reject",
      reason: "Duplicate partner",
    });
    const record = parseRecord(
      await p.redis.hgetall(idempotencyRecordKey(p.prefix, "accept-invitation", r.idempotencyKey)),
    )!;
    const job = await p.producer.queue.getJob(r.jobId);
    expect(jobDataFromRecord(record)).toEqual({ ...job!.data, request: { ...job!.data.request } });
  });
});
