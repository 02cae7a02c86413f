import { afterEach, describe, expect, it } from "vitest";
import { startPipeline, type Pipeline } from "../helpers/pipeline.js";
import { countOutcomes, waitForOutcomes } from "../helpers/outcomes.js";
import { waitFor } from "../helpers/wait.js";
import { createRequestControl, type RequestControl } from "../../src/app/request-control.js";
import { createOutcomeQueue } from "../../src/store/redis/publish.js";
import { canceledEvent, envelopeOf } from "../../src/outcomes/outcome-events.js";
import { CancelValidationError, RequestNotCancelableError, RequestNotFoundError } from "../../src/errors/index.js";
import { REQUEST_ID_RULE } from "../../src/schemas/request-id.js";
import { acceptJobDataSchema } from "../../src/contracts/job.js";
import { idempotencyRecordKey } from "../../src/store/redis/keys.js";
import { parseRecord } from "../../src/request-record/record.js";
import { outcomeEventSchema } from "../../src/contracts/outcome.js";

let p: Pipeline | undefined;
let control: RequestControl | undefined;
afterEach(async () => {
  await control?.close();
  control = undefined;
  await p?.close();
  p = undefined;
});
const acceptCalls = (pl: Pipeline) => pl.emulator.calls({ operation: "AcceptConnectionInvitation" });
const refusal = (e: unknown) => e as RequestNotCancelableError;

describe("cancel", () => {
  it(
    "ends a waiting request with one canceled outcome, " + "completes its record, removes its job; nothing reaches AWS",
    async () => {
      p = await startPipeline({ label: "cancel" });
      control = createRequestControl(p.config, p.redis, p.producer, { api: p.api });
      const inv = p.emulator.seedInvitation();
      const req = { catalog: inv.catalog, identifier: inv.identifier, metadata: { order: 1 } };
      const r = await p.producer.enqueue(req);
      const outcome = await control.cancel(r.jobId, { reason: "ordered by mistake" });
      expect(outcomeEventSchema.parse(outcome)).toEqual(outcome);
      expect(outcome).toMatchObject({
        type: "canceled",
        requestId: r.jobId,
        reason: "ordered by mistake",
        action: "accept",
        attempts: 0,
        metadata: { order: 1 },
        clientToken: r.clientToken,
      });
      expect(await p.producer.queue.getJob(r.jobId)).toBeUndefined();
      const record = parseRecord(
        await p.redis.hgetall(idempotencyRecordKey(p.prefix, "accept-invitation", r.idempotencyKey)),
      );
      expect(record).toMatchObject({ state: "completed", jobId: r.jobId });
      // A re-submission gets the canceled outcome back; canceling again too.
      expect(await p.producer.enqueue(req)).toMatchObject({ duplicate: true, state: "completed", outcome });
      expect(await control.cancel(r.jobId)).toEqual(outcome);
      await p.startWorker();
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(await waitForOutcomes(p.redis, p.prefix, 1)).toEqual([outcome]);
      expect(acceptCalls(p)).toHaveLength(0);
      expect(p.emulator.getInvitation(inv.catalog, inv.identifier)?.Status).toBe("PENDING");
    },
  );

  it("cancels a delayed request (waiting for its next attempt): no further call", async () => {
    p = await startPipeline({ label: "cancel-delayed", retry: { attempts: 3, backoffDelayMs: 60_000 } });
    control = createRequestControl(p.config, p.redis, p.producer, { api: p.api });
    const inv = p.emulator.seedInvitation();
    p.emulator.script({
      operation: "AcceptConnectionInvitation",
      identifier: inv.identifier,
      times: 1,
      error: "InternalServerException",
    });
    const r = await p.producer.enqueue({ catalog: inv.catalog, identifier: inv.identifier });
    await p.startWorker();
    await waitFor(
      async () => (await p!.producer.queue.getJobState(r.jobId)) === "delayed" || undefined,
      10_000,
      "the job to be delayed",
    );
    const outcome = await control.cancel(r.jobId);
    expect(outcome).toMatchObject({ type: "canceled", attempts: 1, reason: null });
    expect(await p.producer.queue.getJob(r.jobId)).toBeUndefined();
    expect(acceptCalls(p)).toHaveLength(1);
  });

  it(
    "a request whose first Accept AWS applied (its answer lost) ends " + "accepted, not canceled, and says so",
    async () => {
      p = await startPipeline({ label: "cancel-applied", retry: { attempts: 3, backoffDelayMs: 60_000 } });
      control = createRequestControl(p.config, p.redis, p.producer, { api: p.api });
      const inv = p.emulator.seedInvitation();
      p.emulator.script({
        operation: "AcceptConnectionInvitation",
        identifier: inv.identifier,
        times: 1,
        error: "ConnectionReset",
        applyFirst: true,
      });
      const req = { catalog: inv.catalog, identifier: inv.identifier };
      const r = await p.producer.enqueue(req);
      await p.startWorker();
      await waitFor(
        async () => (await p!.producer.queue.getJobState(r.jobId)) === "delayed" || undefined,
        10_000,
        "the job to wait for its retry",
      );
      expect(p.emulator.getInvitation(inv.catalog, inv.identifier)?.Status).toBe("ACCEPTED");
      const refused = await control.cancel(r.jobId).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(RequestNotCancelableError);
      expect(refused).toMatchObject({ state: "completed", outcome: { type: "accepted", alreadyAccepted: true } });
      expect(refusal(refused).message).toMatch(/not canceled: AWS had already applied it/);
      // The one outcome is the truth, with its connection; the record answers re-submissions with it.
      const [event] = await waitForOutcomes(p.redis, p.prefix, 1);
      expect(event).toMatchObject({
        type: "accepted",
        alreadyAccepted: true,
        attempts: 1,
        connection: { Id: p.emulator.getInvitation(inv.catalog, inv.identifier)!.ConnectionId },
      });
      expect(await p.producer.enqueue(req)).toMatchObject({ duplicate: true, outcome: { type: "accepted" } });
      await expect(control.cancel(r.jobId)).rejects.toMatchObject({ state: "completed" });
      expect(acceptCalls(p)).toHaveLength(1);
    },
  );

  it("two cancels of one waiting request at once both answer its canceled outcome", async () => {
    p = await startPipeline({ label: "cancel-twice" });
    control = createRequestControl(p.config, p.redis, p.producer, { api: p.api });
    const other = createRequestControl(p.config, p.redis, p.producer, { api: p.api });
    try {
      for (let round = 0; round < 10; round++) {
        const inv = p.emulator.seedInvitation();
        const r = await p.producer.enqueue({ catalog: inv.catalog, identifier: inv.identifier });
        const [a, b] = await Promise.all([control.cancel(r.jobId), other.cancel(r.jobId)]);
        expect(a).toMatchObject({ type: "canceled", requestId: r.jobId });
        expect(b).toEqual(a);
      }
    } finally {
      await other.close();
    }
  });

  it("a second cancel that reads the job gone because the first just published answers with that outcome", async () => {
    // The interleaving of two cancels at once, made certain: the second has found no outcome yet,
    // and while it reads the job's state the first publishes and removes the job ("unknown").
    p = await startPipeline({ label: "cancel-interleaved" });
    const inv = p.emulator.seedInvitation();
    const r = await p.producer.enqueue({ catalog: inv.catalog, identifier: inv.identifier });
    const job = await p.producer.queue.getJob(r.jobId);
    const data = acceptJobDataSchema.parse(job!.data);
    const outcomes = createOutcomeQueue({
      connection: p.redis,
      prefix: p.prefix,
      queueName: "invitation-outcomes",
      requestsQueueName: "accept-invitation",
      retentionSeconds: 60,
      idempotencyRetentionSeconds: 60,
    });
    const firstConnection = p.redis.duplicate();
    const first = createOutcomeQueue({
      connection: firstConnection,
      prefix: p.prefix,
      queueName: "invitation-outcomes",
      requestsQueueName: "accept-invitation",
      retentionSeconds: 60,
      idempotencyRetentionSeconds: 60,
    });
    try {
      const event = canceledEvent(envelopeOf(r.jobId, data, 0, new Date()), null);
      const second = await outcomes.publishUnlessStarted(event, {
        idempotencyKey: data.idempotencyKey,
        jobState: async () => {
          const won = await first.publishUnlessStarted(event, {
            idempotencyKey: data.idempotencyKey,
            jobState: async () => "waiting",
          });
          expect(won).toBe("published");
          return "unknown";
        },
      });
      expect(second).toBe("already-published");
      expect(await countOutcomes(p.redis, p.prefix)).toBe(1);
    } finally {
      await outcomes.close();
      await first.close();
      firstConnection.disconnect();
    }
  });

  it("refuses a request that is running with its state, and one that finished with its state", async () => {
    p = await startPipeline({ label: "cancel-active", emulator: { latencyMs: 1500 } });
    control = createRequestControl(p.config, p.redis, p.producer, { api: p.api });
    const inv = p.emulator.seedInvitation();
    const r = await p.producer.enqueue({ catalog: inv.catalog, identifier: inv.identifier });
    await p.startWorker();
    await waitFor(() => acceptCalls(p!).length > 0 || undefined, 10_000, "the call to start");
    const active = await control.cancel(r.jobId).catch((e: unknown) => e);
    expect(active).toBeInstanceOf(RequestNotCancelableError);
    expect(refusal(active)).toMatchObject({ code: "NOT_CANCELABLE", state: "active", requestId: r.jobId });
    expect(refusal(active).message).toContain("is active");
    const [event] = await waitForOutcomes(p.redis, p.prefix, 1);
    expect(event).toMatchObject({ type: "accepted" });
    await waitFor(
      async () => (await p!.producer.queue.getJobState(r.jobId)) === "completed" || undefined,
      5000,
      "the job to complete",
    );
    await expect(control.cancel(r.jobId)).rejects.toMatchObject({ state: "completed" });
    // Once BullMQ removed the job, the outcome still says how it ended.
    await p.producer.queue.remove(r.jobId);
    await expect(control.cancel(r.jobId)).rejects.toMatchObject({ state: "completed" });
    expect(await countOutcomes(p.redis, p.prefix)).toBe(1);
  });

  it(
    "a run that takes the job after the cancel read it waiting, before its publication: " +
      "the publication is refused (the job's lock), the run's outcome is the one",
    async () => {
      p = await startPipeline({ label: "cancel-race", emulator: { latencyMs: 1500 } });
      const inv = p.emulator.seedInvitation();
      const r = await p.producer.enqueue({ catalog: inv.catalog, identifier: inv.identifier });
      // The cancel's first half: it found the job waiting (cancelRequest's check) …
      expect(await p.producer.queue.getJobState(r.jobId)).toBe("waiting");
      const job = await p.producer.queue.getJob(r.jobId);
      const data = acceptJobDataSchema.parse(job!.data);
      // … then a run takes the job before the cancel publishes.
      await p.startWorker();
      await waitFor(() => acceptCalls(p!).length > 0 || undefined, 10_000, "the run's call to start");
      const outcomes = createOutcomeQueue({
        connection: p.redis,
        prefix: p.prefix,
        queueName: "invitation-outcomes",
        requestsQueueName: "accept-invitation",
        retentionSeconds: 60,
        idempotencyRetentionSeconds: 60,
      });
      try {
        const event = canceledEvent(envelopeOf(r.jobId, data, 0, new Date()), null);
        // The state the cancel read is stale ("waiting"): only the job's lock tells the run holds it.
        expect(
          await outcomes.publishUnlessStarted(event, {
            idempotencyKey: data.idempotencyKey,
            jobState: async () => "waiting",
          }),
        ).toEqual({ started: "active" });
      } finally {
        await outcomes.close();
      }
      const [event] = await waitForOutcomes(p.redis, p.prefix, 1);
      expect(event).toMatchObject({ type: "accepted", requestId: r.jobId });
      expect(await countOutcomes(p.redis, p.prefix)).toBe(1);
    },
  );

  it("refuses a request that failed, naming it failed", async () => {
    p = await startPipeline({ label: "cancel-failed" });
    control = createRequestControl(p.config, p.redis, p.producer, { api: p.api });
    const r = await p.producer.enqueue({ catalog: "AWS", identifier: "pacinv-NOTSEEDED0000" });
    await p.startWorker();
    await waitForOutcomes(p.redis, p.prefix, 1);
    await waitFor(
      async () => (await p!.producer.queue.getJobState(r.jobId)) === "failed" || undefined,
      5000,
      "the job to fail",
    );
    await expect(control.cancel(r.jobId)).rejects.toMatchObject({ state: "failed" });
  });

  it("answers an unknown id with RequestNotFoundError", async () => {
    p = await startPipeline({ label: "cancel-unknown" });
    control = createRequestControl(p.config, p.redis, p.producer, { api: p.api });
    await expect(control.cancel("AWS.pacinv-NOSUCHREQUEST.x")).rejects.toBeInstanceOf(RequestNotFoundError);
  });

  it(
    "refuses, before asking Redis anything, an id that cannot be a request id (BullMQ's own keys: " +
      "a lock, the job counter, the meta hash; 513 characters) and a reason outside 1-256 characters",
    async () => {
      p = await startPipeline({ label: "cancel-malformed" });
      control = createRequestControl(p.config, p.redis, p.producer, { api: p.api });
      const inv = p.emulator.seedInvitation();
      const r = await p.producer.enqueue({ catalog: inv.catalog, identifier: inv.identifier });
      const queueKey = `${p.prefix}:accept-invitation`;
      // A lock as a running job's (a string), beside the counter BullMQ keeps as a string too.
      await p.redis.set(`${queueKey}:${r.jobId}:lock`, "a-worker-token", "PX", 60_000);
      expect(await p.redis.type(`${queueKey}:id`)).toBe("string");
      expect(await p.redis.type(`${queueKey}:meta`)).toBe("hash");
      for (const id of [`${r.jobId}:lock`, "id", "meta", "events", `AWS.${"a".repeat(509)}`]) {
        const refused = await control.cancel(id).catch((e: unknown) => e);
        expect(refused, id.slice(0, 40)).toBeInstanceOf(CancelValidationError);
        expect(refused, id.slice(0, 40)).toMatchObject({
          code: "INVALID_CANCEL",
          issues: [{ field: "requestId", rule: REQUEST_ID_RULE }],
        });
      }
      await p.redis.del(`${queueKey}:${r.jobId}:lock`);
      for (const reason of ["", "x".repeat(257), "x".repeat(300)]) {
        const refused = await control.cancel(r.jobId, { reason }).catch((e: unknown) => e);
        expect(refused).toBeInstanceOf(CancelValidationError);
        expect((refused as CancelValidationError).message).toBe("invalid cancel: reason: must be 1-256 characters");
      }
      // Nothing was written: the request still waits, with no outcome.
      expect(await p.producer.queue.getJobState(r.jobId)).toBe("waiting");
      expect(await countOutcomes(p.redis, p.prefix)).toBe(0);
      expect(await control.cancel(r.jobId, { reason: "x".repeat(256) })).toMatchObject({
        type: "canceled",
        reason: "x".repeat(256),
      });
    },
  );

  it(
    "if the process dies after publishing and before removing the " +
      "job, the worker that takes it finishes without calling AWS",
    async () => {
      p = await startPipeline({ label: "cancel-crash" });
      const inv = p.emulator.seedInvitation();
      const r = await p.producer.enqueue({ catalog: inv.catalog, identifier: inv.identifier });
      // The first half of a cancel: the outcome and the record, as cancelRequest writes them.
      const outcomes = createOutcomeQueue({
        connection: p.redis,
        prefix: p.prefix,
        queueName: "invitation-outcomes",
        requestsQueueName: "accept-invitation",
        retentionSeconds: 60,
        idempotencyRetentionSeconds: 60,
      });
      const job = await p.producer.queue.getJob(r.jobId);
      const data = acceptJobDataSchema.parse(job!.data);
      const event = canceledEvent(envelopeOf(r.jobId, data, 0, new Date()), null);
      expect(
        await outcomes.publishUnlessStarted(event, {
          idempotencyKey: data.idempotencyKey,
          jobState: () => p!.producer.queue.getJobState(r.jobId),
        }),
      ).toBe("published");
      await outcomes.close();
      expect(await p.producer.queue.getJobState(r.jobId)).toBe("waiting");
      await p.startWorker();
      await waitFor(
        async () => (await p!.producer.queue.getJobState(r.jobId)) === "completed" || undefined,
        10_000,
        "the job to finish",
      );
      expect(acceptCalls(p)).toHaveLength(0);
      expect(await waitForOutcomes(p.redis, p.prefix, 1)).toEqual([event]);
    },
  );
});
