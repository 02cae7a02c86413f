import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Queue } from "bullmq";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { PROCESS_START_MS, runCli } from "../helpers/cli.js";
import { waitForOutcomes } from "../helpers/outcomes.js";
import { startPipeline, type Pipeline } from "../helpers/pipeline.js";
import { REDIS_URL } from "../helpers/redis.js";
import { waitFor } from "../helpers/wait.js";

const FIXTURE = fileURLToPath(new URL("../fixtures/outcome-consumer.mjs", import.meta.url));
/** Fast loss detection: a killed consumer's event goes out again after ~1 s, not BullMQ's 30 s. */
const FAST = { LOCK_DURATION_MS: "1000", STALLED_INTERVAL_MS: "300" };

interface ConsumerProcess {
  child: ChildProcess;
  lines(): Array<Record<string, unknown>>;
  stderr(): string;
  exited: Promise<void>;
}

const running: ConsumerProcess[] = [];

function startConsumer(prefix: string, env: Record<string, string> = {}): ConsumerProcess {
  const child = spawn(process.execPath, [FIXTURE], {
    env: { PATH: process.env.PATH ?? "", REDIS_URL, QUEUE_PREFIX: prefix, ...FAST, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (err += d));
  const exited = new Promise<void>((r) => child.on("close", () => r()));
  const p = {
    child,
    lines: () =>
      out
        .split("\n")
        .filter((l) => l.startsWith("{"))
        .map((l) => JSON.parse(l) as Record<string, unknown>),
    stderr: () => err,
    exited,
  };
  running.push(p);
  return p;
}

/**
 * Each step below starts a process (a consumer or a CLI run): one start took 14 s beside CPU hogs
 * on 2 cores. A wait for a consumer to start and get the event is bounded by PROCESS_START_MS,
 * and each test's timeout allows its number of starts at 14 s, with margin.
 */
const WORST_START_MS = 14_000;

/** Waits until the consumer announced the event, then SIGKILLs it mid-handler. */
async function killWhileHandling(c: ConsumerProcess, requestId: string): Promise<void> {
  await waitFor(
    () => c.lines().some((l) => l.handling === requestId) || undefined,
    PROCESS_START_MS,
    "the consumer to start handling the event",
  );
  c.child.kill("SIGKILL");
  await c.exited;
}

async function outcomeState(p: Pipeline, requestId: string): Promise<string> {
  const q = new Queue("invitation-outcomes", { connection: p.redis, prefix: p.prefix });
  try {
    return await q.getJobState(requestId);
  } finally {
    await q.close();
  }
}

let p: Pipeline;
let requestId: string;
beforeEach(async () => {
  p = await startPipeline({ label: "consumer-crash" });
  const [inv] = p.emulator.seedInvitations(1);
  await p.producer.enqueue({ catalog: inv!.catalog, identifier: inv!.identifier });
  await p.startWorker();
  requestId = (await waitForOutcomes(p.redis, p.prefix, 1))[0]!.requestId;
});
afterEach(async () => {
  for (const c of running.splice(0)) {
    if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill("SIGKILL");
    await c.exited;
  }
  await p.close();
});

describe("an outcome consumer killed while handling an event", () => {
  it(
    "with the default bound, the event survives two SIGKILLs mid-handler and is handled by the third consumer",
    async () => {
      await killWhileHandling(startConsumer(p.prefix, { HANG: "1" }), requestId);
      await killWhileHandling(startConsumer(p.prefix, { HANG: "1" }), requestId);
      const third = startConsumer(p.prefix);
      await waitFor(
        () => third.lines().some((l) => l.handled === requestId) || undefined,
        PROCESS_START_MS,
        "the third consumer to handle the event",
      );
      await waitFor(
        async () => (await outcomeState(p, requestId)) === "completed" || undefined,
        10_000,
        "the event to be acknowledged",
      );
      expect(third.lines().filter((l) => l.onError)).toEqual([]);
      // The loss was visible, not silent.
      expect(third.stderr()).toMatch(/lost its consumer/);
    },
    3 * WORST_START_MS + 60_000,
  ); // 3 consumer starts

  it(
    "past a configured maxStalledCount it is parked: onError, an " +
      "error log line, listed by --parked, delivered again by replay",
    async () => {
      const bounded = { MAX_STALLED_COUNT: "1" };
      await killWhileHandling(startConsumer(p.prefix, { HANG: "1", ...bounded }), requestId);
      await killWhileHandling(startConsumer(p.prefix, { HANG: "1", ...bounded }), requestId);
      const third = startConsumer(p.prefix, bounded);
      const onError = await waitFor(
        () => third.lines().find((l) => l.onError)?.onError as Record<string, unknown> | undefined,
        PROCESS_START_MS,
        "onError",
      );
      expect(onError).toMatchObject({ name: "OutcomeParkedError", code: "OUTCOME_PARKED", requestId });
      await waitFor(() => third.stderr().includes("outcome event parked") || undefined, 5_000, "the parked log line");
      const logged = third
        .stderr()
        .split("\n")
        .filter((l) => l.includes("outcome event parked"))
        .map((l) => JSON.parse(l));
      expect(logged).toEqual([
        expect.objectContaining({
          level: 50,
          requestId,
          reason: "job stalled more than allowable limit",
          lostConsumers: 2,
          replay: `pc-invitations outcomes replay --id ${requestId}`,
        }),
      ]);
      expect(third.lines().some((l) => l.handled === requestId)).toBe(false);
      expect(await outcomeState(p, requestId)).toBe("failed");

      const env = { REDIS_URL, QUEUE_PREFIX: p.prefix };
      const listed = await runCli(["outcomes", "--parked", "--json"], env);
      expect(listed.code, listed.stderr).toBe(0);
      expect(JSON.parse(listed.stdout)).toMatchObject({
        count: 1,
        parked: [{ requestId, type: "accepted", reason: "job stalled more than allowable limit", lostConsumers: 2 }],
      });
      const table = await runCli(["outcomes", "--parked"], env);
      expect(table.stdout).toContain(`${requestId}  accepted  parked`);
      expect(table.stdout).toContain("1 parked outcome event(s)");

      const dry = await runCli(["outcomes", "replay", "--id", requestId, "--dry-run", "--json"], env);
      expect(JSON.parse(dry.stdout)).toEqual({ replayed: [requestId], notParked: [], dryRun: true });
      expect(await outcomeState(p, requestId)).toBe("failed");

      // Replayed with a fresh budget: one more lost consumer does not park it again at once.
      third.child.kill("SIGTERM");
      await third.exited;
      const replay = await runCli(
        ["outcomes", "replay", "--id", requestId, "--id", "AWS.pacinv-NOSUCHREQUEST1.x"],
        env,
      );
      expect(replay.code).toBe(1);
      expect(replay.stdout).toContain(`replayed ${requestId}`);
      expect(replay.stdout).toContain("not parked: AWS.pacinv-NOSUCHREQUEST1.x (missing)");
      await killWhileHandling(startConsumer(p.prefix, { HANG: "1", ...bounded }), requestId);
      const fifth = startConsumer(p.prefix, bounded);
      await waitFor(
        () => fifth.lines().some((l) => l.handled === requestId) || undefined,
        PROCESS_START_MS,
        "the replayed event to be handled",
      );
      await waitFor(
        async () => (await outcomeState(p, requestId)) === "completed" || undefined,
        10_000,
        "the event to be acknowledged",
      );
      expect(fifth.lines().filter((l) => l.onError)).toEqual([]);
      const after = await runCli(["outcomes", "--parked", "--json"], env);
      expect(JSON.parse(after.stdout)).toEqual({ count: 0, parked: [] });
    },
    10 * WORST_START_MS + 100_000,
  ); // 5 consumer starts and 5 CLI runs, one after the other: 240 s
});

describe("pc-invitations outcomes replay", () => {
  it("refuses to guess which events: --all or --id, not neither, not both", async () => {
    const env = { REDIS_URL, QUEUE_PREFIX: p.prefix };
    const neither = await runCli(["outcomes", "replay"], env);
    expect(neither.code).toBe(2);
    expect(neither.stderr).toContain("say which events");
    const both = await runCli(["outcomes", "replay", "--all", "--id", requestId], env);
    expect(both.code).toBe(2);
  });
});
