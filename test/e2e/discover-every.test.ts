import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Queue } from "bullmq";
import { PartnerCentralEmulator } from "../../src/emulator/index.js";
import { sigtermOnReadyLine, sigtermTestTimeout, startCli, stopCli } from "../helpers/cli.js";
import { deletePrefix, newRedis, REDIS_URL, uniquePrefix } from "../helpers/redis.js";
import { waitFor } from "../helpers/wait.js";

const redis = newRedis();
let emulator: PartnerCentralEmulator;
beforeAll(async () => {
  emulator = await PartnerCentralEmulator.start();
});
afterAll(async () => {
  await emulator.close();
  redis.disconnect();
});

interface RunLine {
  scheduledAt: string;
  jobId: string;
  runId: string;
  found: number;
}
const runsOf = (stdout: string): RunLine[] =>
  stdout
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as RunLine);

describe("pc-invitations discover --every", () => {
  it("two processes discover once per period between them, and stop cleanly on SIGTERM", async () => {
    emulator.reset();
    emulator.seedInvitations(3);
    const prefix = uniquePrefix("cli-every");
    const env = {
      REDIS_URL,
      QUEUE_PREFIX: prefix,
      PARTNERCENTRAL_ENDPOINT: emulator.url,
      RATE_LIMIT_RPS: "1000",
      RATE_LIMIT_BURST: "1000",
      LOG_LEVEL: "info",
    };
    const args = ["discover", "--catalog", "AWS", "--every", "2s", "--json"];
    const a = startCli(args, env);
    const b = startCli(args, env);
    try {
      await waitFor(
        () => (runsOf(a.stdout()).length + runsOf(b.stdout()).length >= 4 ? true : undefined),
        30_000,
        "four discoveries",
      );
      const [ra, rb] = await Promise.all([stopCli(a), stopCli(b)]);
      expect(ra.code, ra.stderr).toBe(0);
      expect(rb.code, rb.stderr).toBe(0);
      const runs = [...runsOf(ra.stdout), ...runsOf(rb.stdout)].sort((x, y) =>
        x.scheduledAt.localeCompare(y.scheduledAt),
      );
      expect(runs.length).toBeGreaterThanOrEqual(4);
      // One run per period slot for the fleet: no slot twice, slots a period apart. A timer per
      // process would give two runs per period.
      const slots = runs.map((r) => Date.parse(r.scheduledAt));
      expect(new Set(slots).size).toBe(runs.length);
      for (let i = 1; i < slots.length; i++) expect(slots[i]! - slots[i - 1]!).toBeGreaterThanOrEqual(2000);
      expect(new Set(runs.map((r) => r.jobId)).size).toBe(runs.length);
      expect(runs.every((r) => r.found === 3)).toBe(true);
      // Each run listed once (one page): the API saw as many discoveries as were reported.
      expect(emulator.calls({ operation: "ListConnectionInvitations" })).toHaveLength(runs.length);
      // The second process joined the schedule the first one set; neither replaced it.
      expect(ra.stderr + rb.stderr).toContain("discovery schedule set for the fleet");
      expect(ra.stderr + rb.stderr).toContain("joined the fleet's discovery schedule");
      // The schedule stays for the rest of the fleet.
      const q = new Queue("invitation-discovery", { connection: redis, prefix });
      expect(await q.getJobScheduler("discover")).toMatchObject({ every: 2000 });
      await q.close();
    } finally {
      await Promise.all([stopCli(a), stopCli(b)]);
      await deletePrefix(redis, prefix);
    }
  });

  it(
    "exits 0 on a SIGTERM sent the moment it logs that it set the schedule " +
      "(its handler is in place before it says so), three starts in a row",
    async () => {
      const prefix = uniquePrefix("cli-every-sigterm");
      const env = { REDIS_URL, QUEUE_PREFIX: prefix, PARTNERCENTRAL_ENDPOINT: emulator.url, LOG_LEVEL: "info" };
      try {
        // Three starts: the first sets the schedule, the others join it.
        for (let i = 0; i < 3; i++) {
          const run = await sigtermOnReadyLine(
            ["discover", "--catalog", "AWS", "--every", "1h", "--json"],
            env,
            /discovery schedule set for the fleet|joined the fleet's discovery schedule/,
          );
          expect({ sent: run.sent, code: run.code, signal: run.signal }, run.stderr).toEqual({
            sent: true,
            code: 0,
            signal: null,
          });
        }
      } finally {
        await deletePrefix(redis, prefix);
      }
    },
    sigtermTestTimeout(3),
  );
});
