import { afterEach, describe, expect, it } from "vitest";
import { startPipeline, type Pipeline } from "../helpers/pipeline.js";
import { PROCESS_START_MS, runCli, startCli, stopCli } from "../helpers/cli.js";
import { REDIS_URL } from "../helpers/redis.js";
import { waitFor } from "../helpers/wait.js";
import { statusReportSchema } from "../../src/http/http-schemas.js";

let p: Pipeline | undefined;
afterEach(async () => {
  await p?.close();
  p = undefined;
});

describe("pc-invitations status (the CLI, spawned)", () => {
  it("prints the report as JSON when piped or with --json, and as a table with --table", async () => {
    p = await startPipeline({ label: "cli-status" });
    const env = { REDIS_URL, QUEUE_PREFIX: p.prefix, LOG_LEVEL: "warn" };
    const invs = p.emulator.seedInvitations(3);
    const results = await p.producer.enqueueMany(invs.map((i) => ({ catalog: i.catalog, identifier: i.identifier })));

    for (const args of [["status"], ["status", "--json"]]) {
      const run = await runCli(args, env);
      expect(run.code, run.stderr).toBe(0);
      const report = statusReportSchema.parse(JSON.parse(run.stdout));
      expect(report.backlog).toEqual({ total: 3, waiting: 3, prioritized: 0, delayed: 0, active: 0 });
      expect(report.oldestWaiting?.id).toBe(results[0]!.jobId);
      expect(report.workers.alive).toBe(0);
    }

    const table = await runCli(["status", "--table"], env);
    expect(table.code, table.stderr).toBe(0);
    const lines = table.stdout.split("\n");
    expect(lines[0]).toMatch(new RegExp(`^pc-invitations status of \\${p.prefix} accept-invitation at `));
    expect(lines).toContain("Backlog         3 request(s)  (waiting 3, prioritized 0, delayed 0, active 0)");
    expect(lines.find((l) => l.startsWith("Oldest waiting"))).toMatch(
      new RegExp(`^Oldest waiting  ${results[0]!.jobId.replaceAll(".", "\\.")}, enqueued .+ ago$`),
    );
    // No worker yet: nothing admitted; at the limit (RATE_LIMIT_RPS's default, 5 calls/s) 3 requests take 0.6 s.
    expect(lines).toContain("Time to drain   unknown: no call admitted in the last minute; at the limit: 0.6 s");
    expect(lines).toContain("Workers alive   0");
    expect(lines).toContain("Fault pause     none");
  }, 60_000);

  it(
    "--watch prints a report per interval until SIGTERM, then exits 0",
    async () => {
      p = await startPipeline({ label: "cli-status-watch" });
      const env = { REDIS_URL, QUEUE_PREFIX: p.prefix, LOG_LEVEL: "warn" };
      const watch = startCli(["status", "--watch", "--interval", "200ms", "--json"], env);
      await waitFor(() => watch.stdout().split("\n").length > 2, PROCESS_START_MS, "two reports");
      // A change between two reports shows in the next one.
      const inv = p.emulator.seedInvitation();
      await p.producer.enqueue({ catalog: inv.catalog, identifier: inv.identifier });
      await waitFor(
        () => watch.stdout().split("\n").filter(Boolean).at(-1)?.includes('"waiting":1,'),
        30_000,
        "a report with the new request",
      );
      const run = await stopCli(watch);
      expect(run.code, run.stderr).toBe(0);
      const reports = run.stdout
        .split("\n")
        .filter(Boolean)
        .map((l) => statusReportSchema.parse(JSON.parse(l)));
      expect(reports.length).toBeGreaterThanOrEqual(3);
      expect(reports[0]!.backlog.total).toBe(0);
      expect(reports.at(-1)!.backlog.total).toBe(1);
    },
    PROCESS_START_MS + 60_000,
  );

  it.each([
    [["--interval", "1s"], "--interval goes with --watch"],
    [["--json", "--table"], "give --json or --table, not both"],
    [["--watch", "--interval", "soon"], "--interval must be a whole number and a unit"],
    [["--follow"], "unknown option '--follow'"],
  ])("refuses %j with one line and exit 2", async (args, message) => {
    const run = await runCli(["status", ...args], { REDIS_URL });
    expect(run.code).toBe(2);
    expect(run.stderr.split("\n")[0]).toContain(message);
  });
});
