/**
 * Submission (createProducerOn) over the in-memory store: the promises of a batch, without Redis.
 * test/integration/idempotency.test.ts checks the same against the Redis store's script and
 * transaction.
 */
import { describe, expect, it } from "vitest";
import { IdempotencyConflictError } from "../../src/errors/index.js";
import { createProducerOn } from "../../src/producer/producer.js";
import { createMemoryRequestStore } from "../../src/store/memory-request-store.js";

const req = (n: number, extra: Record<string, unknown> = {}) => ({
  catalog: "AWS",
  identifier: `pacinv-SUBMIT${String(n).padStart(7, "0")}`,
  ...extra,
});

describe("submission (producer over the in-memory store)", () => {
  it("a re-submission is the first one's request: same job, same token, no second job", async () => {
    const store = createMemoryRequestStore();
    const producer = createProducerOn(store);
    const first = await producer.enqueue(req(1));
    const again = await producer.enqueue(req(1, { correlationId: "another-trace" }));
    expect(again).toMatchObject({ duplicate: true, jobId: first.jobId, clientToken: first.clientToken });
    expect(store.jobs.size).toBe(1);
  });

  it("a conflict refuses the whole batch, naming the key, the fields and the earlier use", async () => {
    const store = createMemoryRequestStore();
    const producer = createProducerOn(store);
    await producer.enqueue(req(1));
    const refused = await producer
      .enqueueMany([req(2), req(1, { action: "reject", reason: "no" })])
      .catch((e: unknown) => e as IdempotencyConflictError);
    expect(refused).toBeInstanceOf(IdempotencyConflictError);
    expect(refused).toMatchObject({ index: 1, differences: ["action", "reason"] });
    expect(store.jobs.size).toBe(1);
    const inBatch = await producer
      .enqueueMany([req(3), req(3, { metadata: { a: 1 } })])
      .catch((e: unknown) => e as IdempotencyConflictError);
    expect(inBatch).toMatchObject({ index: 1, firstIndex: 0, differences: ["metadata"] });
    expect(store.jobs.size).toBe(1);
  });

  it("a repeat within a batch is a duplicate of its first use; preview writes nothing", async () => {
    const store = createMemoryRequestStore();
    const producer = createProducerOn(store);
    expect((await producer.preview([req(4), req(4)])).map((p) => p.verdict)).toEqual(["new", "duplicate"]);
    expect(store.jobs.size).toBe(0);
    const [a, b] = await producer.enqueueMany([req(4), req(4)]);
    expect(b).toMatchObject({ duplicate: true, jobId: a!.jobId });
    expect(store.jobs.size).toBe(1);
  });

  it("a duplicate whose open record lost its job gets it back: no record without a job", async () => {
    const store = createMemoryRequestStore();
    const producer = createProducerOn(store);
    const first = await producer.enqueue(req(5));
    store.loseJob(first.jobId);
    expect(await producer.enqueue(req(5))).toMatchObject({ duplicate: true, jobId: first.jobId });
    expect(store.jobs.get(first.jobId)?.state).toBe("waiting");
  });
});
