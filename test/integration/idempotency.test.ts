import { afterEach, describe, expect, it } from "vitest";
import { startPipeline, type Pipeline } from "../helpers/pipeline.js";
import { countOutcomes, waitForOutcomes } from "../helpers/outcomes.js";
import { waitFor } from "../helpers/wait.js";
import { IdempotencyConflictError, RecordUnreadableError } from "../../src/errors/index.js";
import type { AcceptedOutcome, FailedOutcome } from "../../src/contracts/outcome.js";
import { idempotencyRecordKey, openRecordsKey } from "../../src/store/redis/keys.js";
import { prepareRequests } from "../../src/producer/producer.js";
import { enqueueInOneScript } from "../../src/store/redis/enqueue.js";
import { keyRequests } from "../../src/store/redis/reserve.js";
import { enqueueEach } from "../../src/producer/enqueue-each.js";
import { DEFAULT_RETRY_POLICY, requestJobOptions } from "../../src/store/redis/job-options.js";

let p: Pipeline | undefined;
afterEach(async () => {
  await p?.close();
  p = undefined;
});
const acceptCalls = (pl: Pipeline, identifier: string) =>
  pl.emulator.calls({ operation: "AcceptConnectionInvitation", identifier });
const requestCounts = (pl: Pipeline) =>
  pl.producer.queue.getJobCounts("waiting", "active", "delayed", "completed", "failed", "prioritized");

describe("idempotency keys", () => {
  it(
    "same key + same payload three times: one job, one API call, " +
      "the same answer each time, also after the job was removed",
    async () => {
      p = await startPipeline({ label: "idem-same" });
      const inv = p.emulator.seedInvitation();
      const req = {
        catalog: inv.catalog,
        identifier: inv.identifier,
        idempotencyKey: "order-42",
        metadata: { order: 42 },
      };
      const first = await p.producer.enqueue({ ...req, correlationId: "a" });
      const second = await p.producer.enqueue({ ...req, correlationId: "b" });
      expect(first).toMatchObject({ duplicate: false, state: "queued", idempotencyKey: "order-42" });
      expect(second).toMatchObject({
        duplicate: true,
        state: "queued",
        jobId: first.jobId,
        clientToken: first.clientToken,
        correlationId: "a",
      });

      await p.startWorker();
      const [event] = await waitForOutcomes(p.redis, p.prefix, 1);
      const third = await p.producer.enqueue(req);
      expect(third).toMatchObject({ duplicate: true, state: "completed", jobId: first.jobId });
      expect(third.outcome).toEqual(event);

      // BullMQ's retention of request jobs must not reopen the window: remove the job. (The outcome
      // event outlives the record with the default retentions, and answers for it.)
      await (await p.producer.queue.getJob(first.jobId))!.remove();
      const fourth = await p.producer.enqueue(req);
      expect(fourth).toMatchObject({ duplicate: true, state: "completed", jobId: first.jobId });
      expect(fourth.outcome).toEqual(event);
      expect(await p.producer.queue.getJob(first.jobId)).toBeUndefined();
      expect(acceptCalls(p, inv.identifier)).toHaveLength(1);
      // The outcome is stored once: in the outcome event, not in the record too.
      const recordKey = idempotencyRecordKey(p.prefix, "accept-invitation", "order-42");
      expect(await p.redis.hexists(recordKey, "outcome")).toBe(0);
    },
  );

  it(
    "a re-submission while a worker runs the request says in_progress " +
      "(read from the job: the run writes nothing to the record)",
    async () => {
      // The call takes 3 s: long enough to look while it is in flight, whatever the load.
      p = await startPipeline({ label: "idem-running", emulator: { latencyMs: 3000 } });
      const inv = p.emulator.seedInvitation();
      const req = { catalog: inv.catalog, identifier: inv.identifier };
      const first = await p.producer.enqueue(req);
      await p.startWorker();
      await waitFor(
        async () =>
          acceptCalls(p!, inv.identifier).length === 1 || (await p!.producer.queue.getJobCounts("active")).active === 1,
        10_000,
        "the run to start",
      );
      const running = await p.producer.enqueue(req);
      expect(running).toMatchObject({ duplicate: true, jobId: first.jobId, state: "in_progress" });
      const recordKey = idempotencyRecordKey(p.prefix, "accept-invitation", `${inv.catalog}.${inv.identifier}`);
      expect(await p.redis.hget(recordKey, "state")).toBe("queued");
      await waitForOutcomes(p.redis, p.prefix, 1);
      expect(await p.producer.enqueue(req)).toMatchObject({ duplicate: true, state: "completed" });
      expect(acceptCalls(p, inv.identifier)).toHaveLength(1);
    },
  );

  it(
    "keeps a copy of the outcome in the record when the " + "record outlives the outcome event, and answers with it",
    async () => {
      p = await startPipeline({ label: "idem-copy" });
      const inv = p.emulator.seedInvitation();
      const req = { catalog: inv.catalog, identifier: inv.identifier, idempotencyKey: "order-43" };
      const first = await p.producer.enqueue(req);
      // Records kept a day, consumed outcome events ten minutes: the record needs its own copy.
      await p.startWorker({ IDEMPOTENCY_RETENTION_SECONDS: 86_400, RETENTION_SECONDS: 600 });
      const [event] = await waitForOutcomes(p.redis, p.prefix, 1);
      await (await p.producer.queue.getJob(first.jobId))!.remove();
      await p.redis.del(`${p.prefix}:invitation-outcomes:${first.jobId}`);
      const again = await p.producer.enqueue(req);
      expect(again).toMatchObject({ duplicate: true, state: "completed", jobId: first.jobId });
      expect(again.outcome).toEqual(event);
      expect(acceptCalls(p, inv.identifier)).toHaveLength(1);
    },
  );

  it("same key + different payload: IdempotencyConflictError naming the fields, nothing enqueued", async () => {
    p = await startPipeline({ label: "idem-conflict" });
    const inv = p.emulator.seedInvitation();
    const other = p.emulator.seedInvitation();
    const first = await p.producer.enqueue({
      catalog: inv.catalog,
      identifier: inv.identifier,
      idempotencyKey: "k1",
      metadata: { a: 1 },
    });
    const before = await requestCounts(p);
    const err = await p.producer
      .enqueue({ catalog: inv.catalog, identifier: other.identifier, idempotencyKey: "k1", metadata: { a: 2 } })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IdempotencyConflictError);
    expect(err).toMatchObject({
      idempotencyKey: "k1",
      differences: ["identifier", "metadata"],
      existingJobId: first.jobId,
      code: "IDEMPOTENCY_CONFLICT",
    });
    expect((err as Error).message).toContain('idempotency key "k1"');
    // A batch with one conflicting item is refused whole.
    const batchErr = await p.producer
      .enqueueMany([
        { catalog: other.catalog, identifier: other.identifier },
        { catalog: inv.catalog, identifier: inv.identifier, idempotencyKey: "k1", clientToken: "explicit-token" },
      ])
      .catch((e: unknown) => e);
    expect(batchErr).toMatchObject({ index: 1, differences: ["clientToken", "metadata"] });
    expect(await requestCounts(p)).toEqual(before);
    expect(
      await p.redis.exists(idempotencyRecordKey(p.prefix, "accept-invitation", `${other.catalog}.${other.identifier}`)),
    ).toBe(0);
  });

  it(
    "a queued or in-progress record never expires and stays in the " +
      "open-records index; only its completion gives it the retention",
    async () => {
      // Every Accept hangs (each attempt ends at AWS_REQUEST_TIMEOUT_MS and is retried) until the
      // switch is lifted: the record cannot complete meanwhile, however slow the machine.
      p = await startPipeline({ label: "idem-ttl", retry: { attempts: 50 } });
      p.emulator.setSwitches({ hang: ["AcceptConnectionInvitation"] } as never);
      const inv = p.emulator.seedInvitation();
      const req = { catalog: inv.catalog, identifier: inv.identifier };
      const r = await p.producer.enqueue(req);
      const recordKey = idempotencyRecordKey(p.prefix, "accept-invitation", `${inv.catalog}.${inv.identifier}`);
      const openKey = openRecordsKey(recordKey);
      // Queued: no TTL (-1: the key exists and has none), and listed as open.
      expect(await p.redis.ttl(recordKey)).toBe(-1);
      expect(await p.redis.zscore(openKey, recordKey)).not.toBeNull();

      await p.startWorker({ AWS_REQUEST_TIMEOUT_MS: 1000 });
      await waitFor(
        () => (acceptCalls(p!, inv.identifier).length >= 1 ? true : undefined),
        20_000,
        "the first call to hang",
      );
      // In progress (a run has taken the job): still no TTL, still open.
      expect(await p.producer.enqueue(req)).toMatchObject({ duplicate: true, jobId: r.jobId, state: "in_progress" });
      expect(await p.redis.ttl(recordKey)).toBe(-1);
      expect(await p.redis.zscore(openKey, recordKey)).not.toBeNull();

      p.emulator.setSwitches({ hang: null } as never);
      const [event] = await waitForOutcomes(p.redis, p.prefix, 1, { timeoutMs: 30_000 });
      expect(event).toMatchObject({ type: "accepted", requestId: r.jobId });
      // Completed: kept IDEMPOTENCY_RETENTION_SECONDS (default 24 h), no longer open.
      const ttl = await p.redis.ttl(recordKey);
      expect(ttl).toBeGreaterThan(86_000);
      expect(ttl).toBeLessThanOrEqual(86_400);
      expect(await p.redis.zscore(openKey, recordKey)).toBeNull();
    },
  );

  it("writes the record and the job together: a record never lacks its job", async () => {
    p = await startPipeline({ label: "idem-heal" });
    const inv = p.emulator.seedInvitation();
    const r = await p.producer.enqueue({ catalog: inv.catalog, identifier: inv.identifier });
    const recKey = idempotencyRecordKey(p.prefix, "accept-invitation", `${inv.catalog}.${inv.identifier}`);
    expect(await p.redis.hget(recKey, "jobId")).toBe(r.jobId);
    expect(await p.producer.queue.getJob(r.jobId)).toBeDefined();
    // Even if the job is removed by hand while queued, a re-submission puts it back.
    await (await p.producer.queue.getJob(r.jobId))!.remove();
    const again = await p.producer.enqueue({ catalog: inv.catalog, identifier: inv.identifier });
    expect(again).toMatchObject({ duplicate: true, jobId: r.jobId, state: "queued" });
    expect(await p.producer.queue.getJob(r.jobId)).toBeDefined();
    await p.startWorker();
    const [e] = await waitForOutcomes(p.redis, p.prefix, 1);
    expect(e!.requestId).toBe(r.jobId);
    expect(await p.redis.hget(recKey, "state")).toBe("completed");
    expect(await p.redis.ttl(recKey)).toBeGreaterThan(86_000);
  });

  it(
    "judges a key repeated within one batch against its first use: same " +
      "payload → its duplicate, another → a conflict, nothing written",
    async () => {
      p = await startPipeline({ label: "idem-batch" });
      const [a, b, c] = p.emulator.seedInvitations(3);
      const req = (inv: typeof a, extra: object = {}) => ({
        catalog: inv!.catalog,
        identifier: inv!.identifier,
        ...extra,
      });
      // Twice the same new request, and a new one: one job each for the two requests.
      const results = await p.producer.enqueueMany([req(a), req(b), req(a)]);
      expect(results.map((r) => r.duplicate)).toEqual([false, false, true]);
      expect(results[2]).toMatchObject({
        jobId: results[0]!.jobId,
        clientToken: results[0]!.clientToken,
        state: "queued",
      });
      expect((await requestCounts(p)).waiting).toBe(2);
      // An existing request twice (duplicates of its record), then the same key with another payload.
      const before = await requestCounts(p);
      const err = await p.producer
        .enqueueMany([req(c), req(b), req(b), req(b, { metadata: { x: 1 } })])
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(IdempotencyConflictError);
      expect(err).toMatchObject({ index: 3, differences: ["metadata"], existingJobId: results[1]!.jobId });
      // A new key used twice with two payloads: the conflict names the batch's own first use.
      const key = { idempotencyKey: "batch-k" };
      const inBatch = await p.producer
        .enqueueMany([req(c, key), req(c, { ...key, metadata: { y: 2 } })])
        .catch((e: unknown) => e);
      expect(inBatch).toMatchObject({ index: 1, firstIndex: 0, differences: ["metadata"] });
      expect(err).toMatchObject({ firstIndex: undefined });
      // preview says the same, and so does the transaction (a duplicate whose job was removed leads the batch).
      const [, , , viaPreview] = await p.producer.preview([
        req(a),
        req(c, key),
        req(b),
        req(c, { ...key, metadata: { y: 2 } }),
      ]);
      expect(viaPreview).toMatchObject({ verdict: "conflict", firstIndex: 1, differences: ["metadata"] });
      await (await p.producer.queue.getJob(results[0]!.jobId))!.remove();
      const viaTransaction = await p.producer
        .enqueueMany([req(a), req(c, key), req(b), req(c, { ...key, metadata: { y: 2 } })])
        .catch((e: unknown) => e);
      expect(viaTransaction).toMatchObject({ index: 3, firstIndex: 1, differences: ["metadata"] });
      await p.producer.enqueue(req(a)); // gives a its job back
      const before2 = await requestCounts(p);
      // Nothing of the refused batches was written: no job, no record for c.
      expect(before2).toEqual(before);
      expect(
        await p.redis.exists(idempotencyRecordKey(p.prefix, "accept-invitation", `${c!.catalog}.${c!.identifier}`)),
      ).toBe(0);
      expect(await p.redis.exists(idempotencyRecordKey(p.prefix, "accept-invitation", "batch-k"))).toBe(0);
    },
  );

  it(
    "enqueueEach sets a conflict aside and names the job its key's " +
      "first use got in the end, also when that use is in the same batch",
    async () => {
      p = await startPipeline({ label: "idem-each" });
      const pl = p;
      const [a, b, c] = pl.emulator.seedInvitations(3).map((i) => ({ catalog: i.catalog, identifier: i.identifier }));
      const existing = await pl.producer.enqueue({ ...c!, idempotencyKey: "each-old" });
      const dispositions = await enqueueEach(
        (rs) => pl.producer.enqueueMany(rs),
        [
          { ...a!, idempotencyKey: "each-k" },
          { ...b!, idempotencyKey: "each-old" }, // conflicts with a record in Redis
          { ...b!, idempotencyKey: "each-k" }, // conflicts with request 0 of this batch
        ],
      );
      expect(dispositions.map((d) => d.disposition)).toEqual(["enqueued", "conflict", "conflict"]);
      const jobs = (await pl.producer.queue.getJobs(["waiting"])).map((j) => j.id);
      expect(dispositions[1]).toMatchObject({ existingJobId: existing.jobId });
      expect(dispositions[2]).toMatchObject({ existingJobId: (dispositions[0] as { jobId: string }).jobId });
      expect(jobs).toContain((dispositions[2] as { existingJobId: string }).existingJobId);
    },
  );

  it(
    "enqueueEach finds every conflict of a batch at its first refusal " +
      "(one preview), so the batch is sent twice, not once per conflict",
    async () => {
      p = await startPipeline({ label: "idem-each-many" });
      const pl = p;
      const req = (i: number, key?: string) => ({
        catalog: "AWS",
        identifier: `pacinv-MANY${String(i).padStart(9, "0")}`,
        ...(key ? { idempotencyKey: key } : {}),
      });
      await pl.producer.enqueueMany(Array.from({ length: 10 }, (_, i) => req(i, `many-${i}`)));
      // 40 requests: 10 reuse those keys for other invitations, 10 reuse one key of their own batch.
      const batch = [
        ...Array.from({ length: 20 }, (_, i) => req(100 + i)),
        ...Array.from({ length: 10 }, (_, i) => req(200 + i, `many-${i}`)),
        ...Array.from({ length: 10 }, (_, i) => req(300 + i, "many-own")),
      ];
      let sends = 0;
      let previews = 0;
      const dispositions = await enqueueEach(
        (rs) => {
          sends++;
          return pl.producer.enqueueMany(rs);
        },
        batch,
        (rs) => {
          previews++;
          return pl.producer.preview(rs);
        },
      );
      expect([sends, previews]).toEqual([2, 1]);
      expect(dispositions.map((d) => d.disposition)).toEqual([
        ...Array<string>(20).fill("enqueued"),
        ...Array<string>(10).fill("conflict"),
        "enqueued",
        ...Array<string>(9).fill("conflict"),
      ]);
      expect(
        dispositions
          .slice(31)
          .every(
            (d) => d.disposition === "conflict" && d.existingJobId === (dispositions[30] as { jobId: string }).jobId,
          ),
      ).toBe(true);
      expect((await requestCounts(pl)).waiting).toBe(10 + 21);
    },
  );

  it(
    "a batch with a duplicate whose job was removed: the " + "job given back, the batch's new requests enqueued",
    async () => {
      p = await startPipeline({ label: "idem-batch-heal" });
      const [a, b] = p.emulator.seedInvitations(2);
      const first = await p.producer.enqueue({ catalog: a!.catalog, identifier: a!.identifier });
      await (await p.producer.queue.getJob(first.jobId))!.remove();
      const [again, fresh] = await p.producer.enqueueMany(
        [a, b].map((i) => ({ catalog: i!.catalog, identifier: i!.identifier })),
      );
      expect(again).toMatchObject({
        duplicate: true,
        jobId: first.jobId,
        clientToken: first.clientToken,
        state: "queued",
      });
      expect(fresh).toMatchObject({ duplicate: false });
      expect((await p.producer.queue.getJob(first.jobId))?.data).toMatchObject({ clientToken: first.clientToken });
      expect(await p.producer.queue.getJob(fresh!.jobId)).toBeDefined();
      expect((await requestCounts(p)).waiting).toBe(2);
    },
  );

  it(
    "an enqueue script sent twice (its reply lost to a reconnect, ioredis sends " +
      "it again) reports its requests as new, not as duplicates of themselves",
    async () => {
      p = await startPipeline({ label: "idem-resend" });
      const requests = p.emulator.seedInvitations(2).map((i) => ({ catalog: i.catalog, identifier: i.identifier }));
      const items = keyRequests(prepareRequests(requests), p.prefix, p.producer.queue.name);
      const opts = requestJobOptions(DEFAULT_RETRY_POLICY);
      const first = await enqueueInOneScript(p.redis, p.producer.queue, items, opts, "", 60_000);
      const again = await enqueueInOneScript(p.redis, p.producer.queue, items, opts, "", 60_000);
      expect(first).not.toBe("job-missing");
      expect((first as Array<{ duplicate: boolean }>).map((r) => r.duplicate)).toEqual([false, false]);
      expect(again).toEqual(first);
      expect((await requestCounts(p)).waiting).toBe(2);
      // A real re-submission (prepared again: another job id) is a duplicate of them.
      const resubmitted = await p.producer.enqueueMany(requests);
      expect(resubmitted.map((r) => [r.duplicate, r.jobId])).toEqual(
        (first as Array<{ jobId: string }>).map((r) => [true, r.jobId]),
      );
    },
  );

  it(
    "judges a record key holding a hash that is not a record as no record when no live " +
      "request owns it, in preview and both write paths alike, and replaces it whole",
    async () => {
      p = await startPipeline({ label: "idem-stray" });
      const pl = p;
      const req = (i: number) => ({ catalog: "AWS", identifier: `pacinv-STRAY${i}0000000` });
      const [a, b, c, d, e, f] = [req(0), req(1), req(2), req(3), req(4), req(5)];
      const keyOf = (r: { catalog: string; identifier: string }) =>
        idempotencyRecordKey(pl.prefix, "accept-invitation", `${r.catalog}.${r.identifier}`);
      // a: a stray field alone, no job named (what an HINCRBY on a record that had gone would leave);
      // b: a record missing a required field; c and f: an unknown state. b, c and f also carry a
      // stray field, and their jobs are gone: no live request owns them.
      await pl.redis.hset(keyOf(a), "revivals", "3");
      for (const r of [b, c, f]) {
        const { jobId } = await pl.producer.enqueue(r);
        await (await pl.producer.queue.getJob(jobId))!.remove();
        await pl.redis.hset(keyOf(r), "revivals", "2");
      }
      await pl.redis.hdel(keyOf(b), "createdAt");
      for (const r of [c, f]) await pl.redis.hset(keyOf(r), "state", "archived");
      expect((await pl.producer.preview([a, b, c, f])).map((v) => v.verdict)).toEqual(["new", "new", "new", "new"]);

      // The script path: the batch is written whole (before, d was written, then it threw).
      const viaScript = await pl.producer.enqueueMany([d, a, b, c]);
      expect(viaScript.map((r) => r.duplicate)).toEqual([false, false, false, false]);
      // The transaction path (a duplicate whose job was removed leads the batch) judges f the same way.
      await (await pl.producer.queue.getJob(viaScript[0]!.jobId))!.remove();
      const viaTransaction = await pl.producer.enqueueMany([d, f, e]);
      expect(viaTransaction.map((r) => r.duplicate)).toEqual([true, false, false]);
      for (const r of [a, b, c, f]) {
        const hash = await pl.redis.hgetall(keyOf(r));
        expect(hash).not.toHaveProperty("revivals");
        expect(hash).toMatchObject({ state: "queued", createdAt: expect.any(String), jobId: expect.any(String) });
      }
      // Each is a record again: a re-submission is its duplicate, with its job.
      const again = await pl.producer.enqueueMany([a, b, c, f]);
      expect(again.map((r) => r.duplicate)).toEqual([true, true, true, true]);
      expect(again.map((r) => r.jobId)).toEqual([
        ...viaScript.slice(1, 4).map((r) => r.jobId),
        viaTransaction[1]!.jobId,
      ]);
    },
  );

  it(
    "never writes over a hash that is not a record but names a live job: " +
      "RecordUnreadableError, nothing of the batch written, by every path",
    async () => {
      p = await startPipeline({ label: "idem-unreadable" });
      const pl = p;
      const req = (i: number) => ({ catalog: "AWS", identifier: `pacinv-UNRD${i}00000000` });
      const [a, b, c, d] = [req(0), req(1), req(2), req(3)];
      const keyOf = (r: { catalog: string; identifier: string }) =>
        idempotencyRecordKey(pl.prefix, "accept-invitation", `${r.catalog}.${r.identifier}`);
      // a's record, from a version with a state this one does not know, names its job, still queued.
      const first = await pl.producer.enqueue(a);
      await pl.redis.hset(keyOf(a), "state", "paused-by-operator");
      const lost = await pl.producer.enqueue(d);
      const before = await requestCounts(pl);
      const refused = (e: unknown) =>
        expect(e).toMatchObject({
          code: "RECORD_UNREADABLE",
          idempotencyKey: `AWS.${a.identifier}`,
          jobId: first.jobId,
          index: 1,
        });
      refused(await pl.producer.enqueueMany([b, a, c]).catch((e: unknown) => e));
      refused(await pl.producer.preview([b, a, c]).catch((e: unknown) => e));
      // The transaction path: a duplicate whose job was removed leads the batch.
      await (await pl.producer.queue.getJob(lost.jobId))!.remove();
      refused(
        await pl.producer
          .enqueueMany([d, a, c])
          .catch((e: unknown) => e)
          .then((e) => {
            expect(e).toBeInstanceOf(RecordUnreadableError);
            return e;
          }),
      );
      expect((await requestCounts(pl)).waiting).toBe(before.waiting! - 1); // only d's removal
      expect(await pl.redis.exists(keyOf(b), keyOf(c))).toBe(0);
      expect(await pl.redis.hgetall(keyOf(a))).toMatchObject({ jobId: first.jobId, state: "paused-by-operator" });
    },
  );

  it("takes a batch of 15,000 requests in one call: one script of some 150,000 arguments", async () => {
    p = await startPipeline({ label: "idem-large" });
    const N = 15_000;
    const requests = Array.from({ length: N }, (_, i) => ({
      catalog: "AWS",
      identifier: `pacinv-L${i.toString(36).padStart(12, "0")}`,
    }));
    // Ten script arguments per request: spread into one JavaScript call they overflow the call
    // stack (RangeError) from some 13,000 requests on, long before Redis minds the size.
    const results = await p.producer.enqueueMany(requests);
    expect(results.filter((r) => !r.duplicate)).toHaveLength(N);
    expect((await requestCounts(p)).waiting).toBe(N);
    const again = await p.producer.enqueueMany(requests.slice(0, 3));
    expect(again.map((r) => [r.duplicate, r.jobId])).toEqual(results.slice(0, 3).map((r) => [true, r.jobId]));
  }, 120_000);

  it("concurrent producers with the same key create one job", async () => {
    p = await startPipeline({ label: "idem-race" });
    const inv = p.emulator.seedInvitation();
    const { createProducer } = await import("../../src/producer/producer.js");
    const producers = Array.from({ length: 4 }, () => createProducer({ redis: p!.redis, prefix: p!.prefix }));
    const results = await Promise.all(
      producers.flatMap((pr) => [1, 2, 3].map(() => pr.enqueue({ catalog: inv.catalog, identifier: inv.identifier }))),
    );
    await Promise.all(producers.map((pr) => pr.close()));
    expect(results.filter((r) => !r.duplicate)).toHaveLength(1);
    expect(new Set(results.map((r) => r.jobId)).size).toBe(1);
    expect((await requestCounts(p)).waiting).toBe(1);
  });
});

describe("reconciliation", () => {
  it("reports an already-accepted invitation as accepted with alreadyAccepted and its connection", async () => {
    p = await startPipeline({ label: "recon-accepted" });
    const inv = p.emulator.seedInvitation({ status: "ACCEPTED" });
    await p.producer.enqueue({ catalog: inv.catalog, identifier: inv.identifier });
    await p.startWorker();
    const [e] = (await waitForOutcomes(p.redis, p.prefix, 1)) as AcceptedOutcome[];
    expect(e).toMatchObject({ type: "accepted", alreadyAccepted: true });
    expect(e!.connection!.Id).toBe(p.emulator.getInvitation(inv.catalog, inv.identifier)!.ConnectionId);
    expect(p.emulator.calls({ operation: "GetConnectionInvitation" })).toHaveLength(1);
    expect(p.emulator.calls({ operation: "GetConnection" })).toHaveLength(1);
  });

  it.each(["REJECTED", "CANCELED", "EXPIRED"] as const)(
    "reports a %s invitation as a failure naming that status",
    async (status) => {
      p = await startPipeline({ label: "recon-final" });
      const inv = p.emulator.seedInvitation({ status });
      await p.producer.enqueue({ catalog: inv.catalog, identifier: inv.identifier });
      await p.startWorker();
      const [e] = (await waitForOutcomes(p.redis, p.prefix, 1)) as FailedOutcome[];
      expect(e!.error).toMatchObject({
        name: "ConflictException",
        reason: "INCOMPATIBLE_CONNECTION_INVITATION_STATE",
        invitationStatus: status,
        httpStatus: 409,
        retryable: false,
      });
      expect(e!.error.message).toContain(status);
    },
  );

  it("after retries run out on answers that were lost, finds the acceptance that did happen", async () => {
    p = await startPipeline({ label: "recon-lost", retry: { attempts: 3 } });
    const inv = p.emulator.seedInvitation();
    // The first call is carried out but its answer is lost; every later call fails too.
    p.emulator.script({
      operation: "AcceptConnectionInvitation",
      identifier: inv.identifier,
      times: 1,
      error: "ConnectionReset",
      applyFirst: true,
    });
    p.emulator.script({
      operation: "AcceptConnectionInvitation",
      identifier: inv.identifier,
      times: 10,
      error: "InternalServerException",
    });
    await p.producer.enqueue({ catalog: inv.catalog, identifier: inv.identifier });
    await p.startWorker();
    const [e] = (await waitForOutcomes(p.redis, p.prefix, 1)) as AcceptedOutcome[];
    expect(e).toMatchObject({ type: "accepted", alreadyAccepted: true, attempts: 3 });
    expect(e!.connection!.Id).toBe(p.emulator.getInvitation(inv.catalog, inv.identifier)!.ConnectionId);
    expect(new Set(acceptCalls(p, inv.identifier).map((c) => c.clientToken)).size).toBe(1);
  });

  it("does not look up after refusals that cannot have reached AWS (throttling)", async () => {
    p = await startPipeline({ label: "recon-throttle", retry: { attempts: 2 }, config: { MAX_THROTTLE_REQUEUES: 0 } });
    const inv = p.emulator.seedInvitation();
    p.emulator.script({
      operation: "AcceptConnectionInvitation",
      identifier: inv.identifier,
      times: 10,
      error: "ThrottlingException",
    });
    await p.producer.enqueue({ catalog: inv.catalog, identifier: inv.identifier });
    await p.startWorker();
    const [e] = (await waitForOutcomes(p.redis, p.prefix, 1)) as FailedOutcome[];
    expect(e!.error).toMatchObject({ name: "RetriesExhausted", reason: "ThrottlingException" });
    expect(p.emulator.calls({ operation: "GetConnectionInvitation" })).toHaveLength(0);
  });

  it(
    "an accepted invitation enqueued again after the record's " + "retention expired is accepted with alreadyAccepted",
    async () => {
      p = await startPipeline({
        label: "recon-expired",
        emulator: { clientTokenTtlMs: 200 },
        config: { IDEMPOTENCY_RETENTION_SECONDS: 1 },
      });
      const inv = p.emulator.seedInvitation();
      const first = await p.producer.enqueue({ catalog: inv.catalog, identifier: inv.identifier });
      await p.startWorker();
      await waitForOutcomes(p.redis, p.prefix, 1);
      const recKey = idempotencyRecordKey(p.prefix, "accept-invitation", `${inv.catalog}.${inv.identifier}`);
      await waitFor(async () => (await p!.redis.exists(recKey)) === 0 || undefined, 5000, "record expiry");
      const again = await p.producer.enqueue({ catalog: inv.catalog, identifier: inv.identifier });
      expect(again.duplicate).toBe(false);
      expect(again.jobId).not.toBe(first.jobId);
      const events = (await waitForOutcomes(p.redis, p.prefix, 2)) as AcceptedOutcome[];
      const second = events.find((e) => e.requestId === again.jobId)!;
      expect(second).toMatchObject({ type: "accepted", alreadyAccepted: true });
      expect(await countOutcomes(p.redis, p.prefix)).toBe(2);
    },
  );
});
