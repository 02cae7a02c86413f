import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Queue } from "bullmq";
import { PartnerCentralEmulator } from "../../src/emulator/index.js";
import { createProducer } from "../../src/producer/producer.js";
import { outcomeEventSchema, type OutcomeEvent } from "../../src/contracts/outcome.js";
import { startCli, stopCli, type CliProcess } from "../helpers/cli.js";
import { countOutcomes } from "../helpers/outcomes.js";
import { deletePrefix, newRedis, REDIS_URL, uniquePrefix } from "../helpers/redis.js";
import { waitFor } from "../helpers/wait.js";

const N = 2000;
const redis = newRedis();
let emulator: PartnerCentralEmulator;
beforeAll(async () => {
  emulator = await PartnerCentralEmulator.start({ latencyMs: 5 });
});
afterAll(async () => {
  await emulator.close();
  redis.disconnect();
});

describe("chaos run", () => {
  it(`${N} requests, 20% submitted twice, 4 workers of which two killed with SIGKILL ` +
    `and one added: ${N} outcomes, no duplicate, no invitation with two tokens`, async () => {
    const prefix = uniquePrefix("chaos");
    const env = {
      REDIS_URL,
      QUEUE_PREFIX: prefix,
      PARTNERCENTRAL_ENDPOINT: emulator.url,
      LOG_LEVEL: "warn",
      RATE_LIMIT_RPS: "100000",
      RATE_LIMIT_BURST: "100000",
      WORKER_CONCURRENCY: "16",
      BACKOFF_DELAY_MS: "50",
      LOCK_DURATION_MS: "2000",
      STALLED_INTERVAL_MS: "500",
    };
    const invs = emulator.seedInvitations(N);
    const requests = invs.map((i) => ({ catalog: i.catalog, identifier: i.identifier }));
    const resubmitted = requests.filter((_, i) => i % 5 === 0);
    const producer = createProducer({ redis, prefix });
    // Issue 3's chaos run and issue 4's scale-out in one: 4 worker processes, 2 killed, 1 added.
    const workers: CliProcess[] = Array.from({ length: 4 }, () => startCli(["worker"], env));
    const started = Date.now();
    try {
      // Enqueue in batches while the workers run; re-submit 20% of them as later batches.
      const dupResults = [];
      for (let i = 0; i < N; i += 250) await producer.enqueueMany(requests.slice(i, i + 250));
      await waitFor(async () => (await countOutcomes(redis, prefix)) >= N * 0.15 || undefined, 60_000, "15% done");
      workers[0]!.child.kill("SIGKILL");
      for (let i = 0; i < resubmitted.length; i += 100)
        dupResults.push(...(await producer.enqueueMany(resubmitted.slice(i, i + 100))));
      await waitFor(async () => (await countOutcomes(redis, prefix)) >= N * 0.5 || undefined, 60_000, "50% done");
      workers[1]!.child.kill("SIGKILL");
      workers.push(startCli(["worker"], env));
      await waitFor(async () => (await countOutcomes(redis, prefix)) >= N || undefined, 90_000, `${N} outcomes`);
      await new Promise((r) => setTimeout(r, 1000)); // would-be duplicates get the time to show up

      const q = new Queue("invitation-outcomes", { connection: redis, prefix });
      const jobs = await q.getJobs(["waiting", "completed", "active", "delayed", "failed", "prioritized"], 0, -1);
      await q.close();
      const events: OutcomeEvent[] = jobs.map((j) => outcomeEventSchema.parse(j.data));
      const byInvitation = new Map<string, number>();
      for (const e of events) byInvitation.set(e.identifier!, (byInvitation.get(e.identifier!) ?? 0) + 1);
      const tokens = new Map<string, Set<string>>();
      for (const c of emulator.calls({ operation: "AcceptConnectionInvitation" })) {
        if (!tokens.has(c.identifier!)) tokens.set(c.identifier!, new Set());
        tokens.get(c.identifier!)!.add(c.clientToken!);
      }
      const figures = {
        requests: N,
        resubmitted: resubmitted.length,
        resubmissionsReportedDuplicate: dupResults.filter((r) => r.duplicate).length,
        workersStarted: workers.length,
        workersKilled: 2,
        outcomes: events.length,
        distinctRequests: new Set(events.map((e) => e.requestId)).size,
        invitationsWithMoreThanOneOutcome: [...byInvitation.values()].filter((n) => n > 1).length,
        accepted: events.filter((e) => e.type === "accepted").length,
        acceptCalls: emulator.calls({ operation: "AcceptConnectionInvitation" }).length,
        replayedCalls: emulator.calls({ operation: "AcceptConnectionInvitation" }).filter((c) => c.replayed).length,
        invitationsWithTwoTokens: [...tokens.values()].filter((s) => s.size > 1).length,
        invitationsAccepted: invs.filter((i) => emulator.getInvitation(i.catalog, i.identifier)?.Status === "ACCEPTED")
          .length,
        seconds: (Date.now() - started) / 1000,
      };
      console.log(`chaos figures ${JSON.stringify(figures)}`);
      expect(figures.resubmissionsReportedDuplicate).toBe(resubmitted.length);
      expect(figures.outcomes).toBe(N);
      expect(figures.distinctRequests).toBe(N);
      expect(figures.invitationsWithMoreThanOneOutcome).toBe(0);
      expect(figures.accepted).toBe(N);
      expect(figures.invitationsWithTwoTokens).toBe(0);
      expect(figures.invitationsAccepted).toBe(N);
    } finally {
      await Promise.all(workers.map(stopCli));
      await producer.close();
      await deletePrefix(redis, prefix);
    }
  }, 180_000);
});
