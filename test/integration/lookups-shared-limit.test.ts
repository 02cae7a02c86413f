/**
 * README, Rate limits: "Retries, reconciliation look-ups, a redrive's read and every call of a
 * discovery … count" against the shared limit. Each test makes the worker (or its sweeper) look an
 * invitation up in one of the ways it does, and holds every call the emulator saw from the worker
 * against the admissions the shared limit counted in Redis (its state's calls of the last minute):
 * a look-up that skipped the limit is a call without an admission.
 */
import { Worker, UnrecoverableError } from "bullmq";
import { afterEach, describe, expect, it } from "vitest";
import { startPipeline, TEST_CREDENTIALS, type Pipeline } from "../helpers/pipeline.js";
import { waitForOutcomes } from "../helpers/outcomes.js";
import { waitFor } from "../helpers/wait.js";
import { newRedis } from "../helpers/redis.js";
import { createSdkInvitationApi } from "../../src/aws/sdk-invitation-api.js";
import { createRedisRateLimiter } from "../../src/ratelimit/redis-rate-limiter.js";
import { createRequestControl } from "../../src/index.js";
import type { AcceptedOutcome } from "../../src/contracts/outcome.js";
import type { RecordedCall } from "../../src/emulator/index.js";
import { accept } from "../../src/operations/accept.js";

let p: Pipeline | undefined;
const closers: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
  await p?.close();
  p = undefined;
});

/** Admissions the pipeline's shared limit counted in the last minute (every test here takes far less). */
async function admissions(pl: Pipeline): Promise<number> {
  const limiter = createRedisRateLimiter({ redis: pl.redis, prefix: pl.prefix });
  return (await limiter.getState(pl.config.RATE_LIMIT_KEY)).retryBudget.callsLastMinute;
}

/** Where the count starts: the calls the emulator saw and the admissions counted so far. */
async function mark(pl: Pipeline) {
  return { calls: pl.emulator.calls().length, admitted: await admissions(pl) };
}

/**
 * Every call the emulator saw since `from` was admitted by the shared limit: as many admissions
 * as calls. Returns the calls, so the test can say which look-ups they were.
 */
async function expectEveryCallAdmitted(pl: Pipeline, from: { calls: number; admitted: number }) {
  const calls = pl.emulator.calls().slice(from.calls);
  const admitted = (await admissions(pl)) - from.admitted;
  expect(admitted, `calls: ${calls.map((c) => `${c.operation} ${c.errorType ?? c.status}`).join(", ")}`).toBe(
    calls.length,
  );
  return calls;
}

const ops = (calls: RecordedCall[], operation: string) => calls.filter((c) => c.operation === operation);

/** Fails the pipeline's queued jobs without an outcome, as a worker that could not write one would. */
async function failWithoutOutcome(pl: Pipeline, count: number) {
  const connection = newRedis();
  const rogue = new Worker(
    pl.config.REQUESTS_QUEUE,
    async () => {
      throw new UnrecoverableError("lost");
    },
    { connection, prefix: pl.prefix },
  );
  try {
    await waitFor(
      async () => ((await pl.producer.queue.getJobCountByTypes("failed")) === count ? true : undefined),
      20_000,
      `${count} job(s) to fail`,
    );
  } finally {
    await rogue.close();
    connection.disconnect();
  }
}

/** An Accept with the request's own ClientToken, outside the worker: a lost run's call whose answer never came. */
async function acceptOutsideTheWorker(pl: Pipeline, inv: { catalog: string; identifier: string }, clientToken: string) {
  const sdk = createSdkInvitationApi({ endpoint: pl.emulator.url, credentials: TEST_CREDENTIALS });
  try {
    await accept.call(sdk, { catalog: inv.catalog, identifier: inv.identifier, clientToken, request: {} });
  } finally {
    sdk.destroy();
  }
}

describe("the shared limit counts the worker's look-ups of an invitation", () => {
  it("the look-up after a ConflictException takes a slot of the shared limit", async () => {
    p = await startPipeline({ label: "paced-conflict" });
    const inv = p.emulator.seedInvitation({ status: "ACCEPTED" });
    const from = await mark(p);
    await p.producer.enqueue({ catalog: inv.catalog, identifier: inv.identifier });
    await p.startWorker();
    const [event] = await waitForOutcomes(p.redis, p.prefix, 1);
    expect(event).toMatchObject({ type: "accepted", alreadyAccepted: true, attempts: 1 });
    const calls = await expectEveryCallAdmitted(p, from);
    expect(ops(calls, "AcceptConnectionInvitation")).toMatchObject([{ status: 409 }]);
    expect(ops(calls, "GetConnectionInvitation").length).toBeGreaterThanOrEqual(1);
  });

  it(
    "the look-up after retries ran out on a timeout and a 5xx (the first Accept " +
      "applied, its answer never came) takes a slot of the shared limit",
    async () => {
      p = await startPipeline({ label: "paced-exhausted", retry: { attempts: 2 } });
      const inv = p.emulator.seedInvitation();
      p.emulator.script({
        operation: "AcceptConnectionInvitation",
        identifier: inv.identifier,
        times: 1,
        error: "Hang",
        applyFirst: true,
      });
      p.emulator.script({
        operation: "AcceptConnectionInvitation",
        identifier: inv.identifier,
        times: 1,
        error: "InternalServerException",
      });
      const from = await mark(p);
      await p.producer.enqueue({ catalog: inv.catalog, identifier: inv.identifier });
      await p.startWorker({ AWS_REQUEST_TIMEOUT_MS: 2000 });
      const [event] = await waitForOutcomes(p.redis, p.prefix, 1, { timeoutMs: 30_000 });
      expect(event).toMatchObject({ type: "accepted", alreadyAccepted: true, attempts: 2 });
      const calls = await expectEveryCallAdmitted(p, from);
      expect(ops(calls, "AcceptConnectionInvitation").map((c) => c.errorType)).toEqual([
        "Hang",
        "InternalServerException",
      ]);
      expect(ops(calls, "GetConnectionInvitation").length).toBeGreaterThanOrEqual(1);
    },
  );

  it("a redrive's read of the invitation takes a slot of the shared limit", async () => {
    p = await startPipeline({ label: "paced-redrive" });
    const inv = p.emulator.seedInvitation();
    p.emulator.script({
      operation: "AcceptConnectionInvitation",
      identifier: inv.identifier,
      times: 1,
      error: "AccessDeniedException",
    });
    const from = await mark(p);
    const failed = await p.producer.enqueue({ catalog: inv.catalog, identifier: inv.identifier });
    await p.startWorker();
    expect(await waitForOutcomes(p.redis, p.prefix, 1)).toMatchObject([{ type: "failed", requestId: failed.jobId }]);
    // No look-up for a plain refusal: the one read below is the redrive's.
    expect(p.emulator.calls({ operation: "GetConnectionInvitation" })).toHaveLength(0);

    const control = createRequestControl(p.config, p.redis, p.producer, { api: p.api });
    closers.push(() => control.close());
    expect(await control.redrive({})).toMatchObject({ found: 1, redriven: 1 });
    const events = await waitForOutcomes(p.redis, p.prefix, 2);
    expect(events.find((e) => e.requestId !== failed.jobId)).toMatchObject({
      type: "accepted",
      redriveOf: failed.jobId,
      alreadyAccepted: false,
    });
    const calls = await expectEveryCallAdmitted(p, from);
    expect(ops(calls, "GetConnectionInvitation")).toHaveLength(1);
    expect(ops(calls, "AcceptConnectionInvitation")).toHaveLength(2);
  });

  it("the sweeper's look-up of a job failed without an outcome takes a slot of the shared limit", async () => {
    p = await startPipeline({ label: "paced-sweep" });
    const inv = p.emulator.seedInvitation();
    const r = await p.producer.enqueue({ catalog: inv.catalog, identifier: inv.identifier });
    await failWithoutOutcome(p, 1);
    await acceptOutsideTheWorker(p, inv, r.clientToken);

    const from = await mark(p);
    const w = await p.startWorker({ SWEEP_INTERVAL_MS: 0, SWEEP_GRACE_MS: 0 });
    expect(await w.sweep()).toMatchObject({ failedJobsChecked: 1, finished: 1 });
    const [event] = (await waitForOutcomes(p.redis, p.prefix, 1)) as AcceptedOutcome[];
    expect(event).toMatchObject({ type: "accepted", requestId: r.jobId, alreadyAccepted: true });
    const calls = await expectEveryCallAdmitted(p, from);
    expect(ops(calls, "GetConnectionInvitation").length).toBeGreaterThanOrEqual(1);
    expect(ops(calls, "AcceptConnectionInvitation")).toHaveLength(0);
  });

  it("a cancel's read of a request a run took before takes a slot of the shared limit", async () => {
    p = await startPipeline({ label: "paced-cancel", retry: { attempts: 3, backoffDelayMs: 60_000 } });
    const inv = p.emulator.seedInvitation();
    // The first Accept's connection is reset: the job waits for its retry, and may have reached AWS.
    p.emulator.script({
      operation: "AcceptConnectionInvitation",
      identifier: inv.identifier,
      times: 1,
      error: "ConnectionReset",
    });
    const from = await mark(p);
    const r = await p.producer.enqueue({ catalog: inv.catalog, identifier: inv.identifier });
    await p.startWorker();
    await waitFor(
      async () => (await p!.producer.queue.getJobState(r.jobId)) === "delayed" || undefined,
      20_000,
      "the job to wait for its retry",
    );
    const control = createRequestControl(p.config, p.redis, p.producer, { api: p.api });
    closers.push(() => control.close());
    // Still pending when read: canceled.
    expect(await control.cancel(r.jobId)).toMatchObject({ type: "canceled", requestId: r.jobId });
    const calls = await expectEveryCallAdmitted(p, from);
    expect(ops(calls, "GetConnectionInvitation")).toHaveLength(1);
    expect(ops(calls, "AcceptConnectionInvitation")).toHaveLength(1);
  });

  it("the look-up of a job BullMQ gave up on (its worker lost) takes a slot of the shared limit", async () => {
    p = await startPipeline({ label: "paced-abandoned" });
    const inv = p.emulator.seedInvitation();
    const r = await p.producer.enqueue({ catalog: inv.catalog, identifier: inv.identifier });
    // A worker takes the job and dies holding it (its lock is not renewed); its Accept went through.
    const connection = newRedis();
    const lost = new Worker(p.config.REQUESTS_QUEUE, () => new Promise<never>(() => undefined), {
      connection,
      prefix: p.prefix,
      lockDuration: 1000,
      skipStalledCheck: true,
    });
    closers.push(() => connection.disconnect());
    await waitFor(
      async () => ((await p!.producer.queue.getJobCountByTypes("active")) === 1 ? true : undefined),
      20_000,
      "the lost worker to take the job",
    );
    await lost.close(true);
    await acceptOutsideTheWorker(p, inv, r.clientToken);

    const from = await mark(p);
    // No stalled job is taken again: BullMQ fails it, and the worker's 'failed' handler looks it up.
    await p.startWorker({ MAX_STALLED_COUNT: 0, STALLED_INTERVAL_MS: 300, SWEEP_INTERVAL_MS: 0 });
    const [event] = await waitForOutcomes(p.redis, p.prefix, 1, { timeoutMs: 30_000 });
    expect(event).toMatchObject({ type: "accepted", requestId: r.jobId, alreadyAccepted: true });
    expect(await p.producer.queue.getJobState(r.jobId)).toBe("failed");
    const calls = await expectEveryCallAdmitted(p, from);
    expect(ops(calls, "GetConnectionInvitation").length).toBeGreaterThanOrEqual(1);
    expect(ops(calls, "AcceptConnectionInvitation")).toHaveLength(0);
  });
});
