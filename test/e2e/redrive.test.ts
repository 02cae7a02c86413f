import { afterEach, describe, expect, it } from "vitest";
import { startPipeline, type Pipeline } from "../helpers/pipeline.js";
import { runCli } from "../helpers/cli.js";
import { waitForOutcomes } from "../helpers/outcomes.js";
import { REDIS_URL } from "../helpers/redis.js";
import type { AcceptedOutcome } from "../../src/contracts/outcome.js";
import type { RedriveSummary } from "../../src/producer/redrive.js";

let p: Pipeline | undefined;
afterEach(async () => {
  await p?.close();
  p = undefined;
});

describe("pc-invitations redrive", () => {
  it(
    "redrives the AccessDeniedExceptions once AWS stops denying, and a " +
      "failure whose invitation was accepted meanwhile; twice redrives once",
    async () => {
      p = await startPipeline({ label: "cli-redrive" });
      const env = { REDIS_URL, QUEUE_PREFIX: p.prefix, LOG_LEVEL: "warn" };
      const [denied, acceptedMeanwhile, notFound] = p.emulator.seedInvitations(3);
      // AWS denies each of these once (an IAM policy being fixed), then stops denying.
      for (const inv of [denied!, acceptedMeanwhile!]) {
        p.emulator.script({
          operation: "AcceptConnectionInvitation",
          identifier: inv.identifier,
          times: 1,
          error: "AccessDeniedException",
          reason: "ACCESS_DENIED",
        });
      }
      p.emulator.script({
        operation: "AcceptConnectionInvitation",
        identifier: notFound!.identifier,
        times: 1,
        error: "ResourceNotFoundException",
      });
      const requests = await p.producer.enqueueMany(
        [denied!, acceptedMeanwhile!, notFound!].map((i) => ({ catalog: i.catalog, identifier: i.identifier })),
      );
      await p.startWorker();
      const failed = await waitForOutcomes(p.redis, p.prefix, 3);
      expect(failed.every((e) => e.type === "failed")).toBe(true);
      // One of them gets accepted another way meanwhile.
      await p.producer.enqueue({
        catalog: acceptedMeanwhile!.catalog,
        identifier: acceptedMeanwhile!.identifier,
        idempotencyKey: "by-hand",
      });
      await waitForOutcomes(p.redis, p.prefix, 4);

      const dry = await runCli(["redrive", "--error", "AccessDeniedException", "--since", "1h", "--dry-run"], env);
      expect(dry.code, dry.stderr).toBe(0);
      // The summary comes last (issue 19: it scrolled away when first).
      const dryLine = dry.stdout.trim().split("\n").at(-1);
      expect(dryLine).toMatch(
        /^dry run, nothing enqueued: found 2 failed request\(s\) \(errors AccessDeniedException, since .+\); /,
      );
      expect(dryLine).toMatch(/; would redrive 2; 0 already redriven; 0 conflict\(s\); 0 skipped$/);

      const run = await runCli(["redrive", "--error", "AccessDeniedException", "--since", "1h"], env);
      expect(run.code, run.stderr).toBe(0);
      const lines = run.stdout.trim().split("\n");
      expect(lines.at(-1)).toMatch(/; redrove 2; 0 already redriven; 0 conflict\(s\); 0 skipped$/);
      for (const r of requests.slice(0, 2))
        expect(run.stdout).toContain(`${r.jobId} (accept, AccessDeniedException at `);

      const events = await waitForOutcomes(p.redis, p.prefix, 6);
      const redriven = events.filter((e) => e.redriveOf !== undefined) as AcceptedOutcome[];
      expect(redriven.map((e) => e.redriveOf).sort()).toEqual([requests[0]!.jobId, requests[1]!.jobId].sort());
      const d = redriven.find((e) => e.identifier === denied!.identifier)!;
      const m = redriven.find((e) => e.identifier === acceptedMeanwhile!.identifier)!;
      expect(d).toMatchObject({ type: "accepted", alreadyAccepted: false });
      expect(m).toMatchObject({ type: "accepted", alreadyAccepted: true, attempts: 0 });
      // Denied: one more Accept, with a new token. Accepted meanwhile: no call from the redrive.
      expect(
        p.emulator
          .calls({ operation: "AcceptConnectionInvitation", identifier: denied!.identifier })
          .map((c) => c.clientToken),
      ).toEqual([requests[0]!.clientToken, d.clientToken]);
      expect(
        p.emulator.calls({ operation: "AcceptConnectionInvitation", identifier: acceptedMeanwhile!.identifier }),
      ).toHaveLength(2);
      // The ResourceNotFoundException was not redriven.
      expect(p.emulator.getInvitation(notFound!.catalog, notFound!.identifier)?.Status).toBe("PENDING");

      const twice = await runCli(["redrive", "--error", "AccessDeniedException", "--json"], env);
      expect(twice.code).toBe(0);
      expect(JSON.parse(twice.stdout) as RedriveSummary).toMatchObject({ found: 2, redriven: 0, duplicates: 2 });

      const usage = await runCli(["redrive", "--since", "yesterday"], env);
      expect(usage.code).toBe(2);
      expect(usage.stderr).toContain(
        '--since must be a whole number and a unit: ms, s, m, h or d (e.g. 30s, 5m, 1h, 1d), got "yesterday"',
      );
    },
  );

  it("redrives the failures of every error named by repeated --error flags, and no other", async () => {
    p = await startPipeline({ label: "cli-redrive-errors" });
    const env = { REDIS_URL, QUEUE_PREFIX: p.prefix, LOG_LEVEL: "warn" };
    const [denied, invalid, notFound] = p.emulator.seedInvitations(3);
    const errors = ["AccessDeniedException", "ValidationException", "ResourceNotFoundException"] as const;
    for (const [k, inv] of [denied!, invalid!, notFound!].entries()) {
      p.emulator.script({
        operation: "AcceptConnectionInvitation",
        identifier: inv.identifier,
        times: 1,
        error: errors[k]!,
      });
    }
    const requests = await p.producer.enqueueMany(
      [denied!, invalid!, notFound!].map((i) => ({ catalog: i.catalog, identifier: i.identifier })),
    );
    await p.startWorker();
    const failed = await waitForOutcomes(p.redis, p.prefix, 3);
    expect(failed.map((e) => (e.type === "failed" ? e.error.name : e.type)).sort()).toEqual([...errors].sort());

    const run = await runCli(
      ["redrive", "--error", "AccessDeniedException", "--error", "ValidationException", "--json"],
      env,
    );
    expect(run.code, run.stderr).toBe(0);
    const summary = JSON.parse(run.stdout) as RedriveSummary;
    expect(summary).toMatchObject({
      errorNames: ["AccessDeniedException", "ValidationException"],
      found: 2,
      redriven: 2,
      duplicates: 0,
      conflicts: 0,
    });
    expect(summary.requests.map((r) => r.requestId).sort()).toEqual([requests[0]!.jobId, requests[1]!.jobId].sort());

    const events = await waitForOutcomes(p.redis, p.prefix, 5);
    const redriven = events.filter((e) => e.redriveOf !== undefined);
    expect(redriven.map((e) => `${e.type} ${e.redriveOf}`).sort()).toEqual(
      [`accepted ${requests[0]!.jobId}`, `accepted ${requests[1]!.jobId}`].sort(),
    );
    // The ResourceNotFoundException was not named: not redriven, no second call for it.
    expect(
      p.emulator.calls({ operation: "AcceptConnectionInvitation", identifier: notFound!.identifier }),
    ).toHaveLength(1);
    expect(p.emulator.getInvitation(notFound!.catalog, notFound!.identifier)?.Status).toBe("PENDING");
    expect(p.emulator.getInvitation(denied!.catalog, denied!.identifier)?.Status).toBe("ACCEPTED");
    expect(p.emulator.getInvitation(invalid!.catalog, invalid!.identifier)?.Status).toBe("ACCEPTED");
  });

  it(
    "more than 10 to redrive: refused without --yes off a terminal " + "(nothing enqueued); --limit takes the oldest N",
    async () => {
      p = await startPipeline({ label: "cli-redrive-confirm" });
      const env = { REDIS_URL, QUEUE_PREFIX: p.prefix, LOG_LEVEL: "warn" };
      // 11 invitations AWS does not know: each request fails (ResourceNotFoundException).
      const unknown = Array.from({ length: 11 }, (_, i) => ({
        catalog: "AWS",
        identifier: `pacinv-UNKNOWN${String(i).padStart(6, "0")}`,
      }));
      const requests = await p.producer.enqueueMany(unknown);
      await p.startWorker();
      const failed = await waitForOutcomes(p.redis, p.prefix, 11);
      expect(failed.every((e) => e.type === "failed")).toBe(true);

      const refused = await runCli(["redrive"], env);
      expect(refused.code, refused.stderr).toBe(2);
      expect(refused.stderr).toContain("this would redrive 11 failed request(s) (more than 10): pass --yes");
      expect(refused.stdout).toBe("");
      const dry = await runCli(["redrive", "--dry-run", "--json"], env);
      expect(JSON.parse(dry.stdout) as RedriveSummary).toMatchObject({ found: 11, redriven: 11, duplicates: 0 });

      const limited = await runCli(["redrive", "--limit", "10", "--json"], env);
      expect(limited.code, limited.stderr).toBe(0);
      const first = JSON.parse(limited.stdout) as RedriveSummary;
      expect(first).toMatchObject({ found: 11, limit: 10, redriven: 10, duplicates: 0 });
      const oldest = new Set(
        failed
          .slice()
          .sort((a, b) => a.completedAt.localeCompare(b.completedAt))
          .map((e) => e.requestId),
      );
      expect(first.requests.every((r) => oldest.has(r.requestId))).toBe(true);
      expect(requests).toHaveLength(11);

      const rest = await runCli(["redrive", "--yes", "--json"], env);
      expect(rest.code, rest.stderr).toBe(0);
      // The ten redriven ones may have failed again meanwhile (AWS still does not know them): each
      // original is now either redriven before (a duplicate) or, the one --limit left, redriven now.
      const all = JSON.parse(rest.stdout) as RedriveSummary;
      const left = requests.map((r) => r.jobId).filter((id) => !first.requests.some((r) => r.requestId === id));
      expect(left).toHaveLength(1);
      const byId = new Map(all.requests.map((r) => [r.requestId, r.result]));
      expect(byId.get(left[0]!)).toBe("redriven");
      for (const r of first.requests) expect(byId.get(r.requestId), r.requestId).toBe("duplicate");

      const bad = await runCli(["redrive", "--limit", "0"], env);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain('--limit must be a whole number ≥ 1, got "0"');
    },
  );

  it("--help prints the usage with every flag and exits 0", async () => {
    const help = await runCli(["redrive", "--help"]);
    expect(help.code, help.stderr).toBe(0);
    expect(help.stdout).toContain("pc-invitations redrive [--error NAME]... [--since DURATION] [--dry-run] [--json]");
    for (const flag of ["--error NAME", "--since 1d", "--dry-run"]) expect(help.stdout).toContain(flag);
    expect(help.stderr).toBe("");
  });
});
