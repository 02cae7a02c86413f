import { afterEach, describe, expect, it } from "vitest";
import { startPipeline, TEST_CREDENTIALS, type Pipeline } from "../helpers/pipeline.js";
import { createSdkInvitationApi } from "../../src/aws/sdk-invitation-api.js";
import type { InvitationApi } from "../../src/aws/invitation-api.js";
import { runCli } from "../helpers/cli.js";
import { countOutcomes, waitForOutcomes } from "../helpers/outcomes.js";
import { waitFor } from "../helpers/wait.js";
import { REDIS_URL } from "../helpers/redis.js";

let p: Pipeline | undefined;
afterEach(async () => {
  await p?.close();
  p = undefined;
});

describe("pc-invitations cancel", () => {
  it("cancels a waiting request, and refuses an active one with its state", async () => {
    p = await startPipeline({ label: "cli-cancel" });
    const env = { REDIS_URL, QUEUE_PREFIX: p.prefix, LOG_LEVEL: "warn" };
    const [a, b] = p.emulator.seedInvitations(2);
    const waiting = await p.producer.enqueue({ catalog: a!.catalog, identifier: a!.identifier });

    const r = await runCli(["cancel", waiting.jobId, "--reason", "not needed after all", "--json"], env);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      type: "canceled",
      requestId: waiting.jobId,
      reason: "not needed after all",
      identifier: a!.identifier,
    });
    const text = await runCli(["cancel", waiting.jobId], env);
    expect(text.code).toBe(0);
    expect(text.stdout).toBe(
      `canceled ${waiting.jobId} (${a!.catalog} ${a!.identifier}); nothing was sent to AWS for it\n`,
    );

    const active = await p.producer.enqueue({ catalog: b!.catalog, identifier: b!.identifier });
    // The worker's Accept waits until the refusal has been seen: the request stays active however
    // long the CLI takes to start (an emulator latency would be a window a loaded machine can miss).
    const sdk = createSdkInvitationApi({ endpoint: p.emulator.url, credentials: TEST_CREDENTIALS });
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let started = false;
    const held: InvitationApi = {
      ...sdk,
      async act(operation, input, options) {
        started = true;
        await released;
        return sdk.act(operation, input, options);
      },
    };
    try {
      await p.startWorker({}, { api: held });
      await waitFor(() => started || undefined, 10_000, "the accept to start");
      const refused = await runCli(["cancel", active.jobId], env);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain(
        `request ${active.jobId} is active: only a request that has ` +
          `not started (waiting, delayed, prioritized) can be canceled`,
      );
    } finally {
      release();
    }
    const events = await waitForOutcomes(p.redis, p.prefix, 2);
    expect(events.map((e) => e.type).sort()).toEqual(["accepted", "canceled"]);
    expect(p.emulator.calls({ operation: "AcceptConnectionInvitation" }).map((c) => c.identifier)).toEqual([
      b!.identifier,
    ]);
    sdk.destroy();

    const unknown = await runCli(["cancel", "AWS.pacinv-NOSUCHREQUEST.x"], env);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("no request with id");
    const usage = await runCli(["cancel"], env);
    expect(usage.code).toBe(2);
  }, 150_000); // five CLI runs: on a loaded machine (load 14) one CLI run alone took 14 s

  it("refuses an id that cannot be a request id (BullMQ's job counter, a job's lock) and a --reason " +
    "outside 1-256 characters: one line naming the field and the rule, exit 2, nothing canceled", async () => {
    p = await startPipeline({ label: "cli-cancel-malformed" });
    const env = { REDIS_URL, QUEUE_PREFIX: p.prefix, LOG_LEVEL: "warn" };
    const [a, b] = p.emulator.seedInvitations(2);
    const waiting = await p.producer.enqueue({ catalog: a!.catalog, identifier: a!.identifier });
    const running = await p.producer.enqueue({ catalog: b!.catalog, identifier: b!.identifier });
    // Keys that hold strings: a running job's lock (as a worker sets it), the job counter.
    await p.redis.set(`${p.prefix}:accept-invitation:${running.jobId}:lock`, "a-worker-token", "PX", 120_000);
    expect(await p.redis.type(`${p.prefix}:accept-invitation:id`)).toBe("string");
    const idRule =
      "requestId: must be a request id: <catalog>.<…> of letters, " +
      'digits, ".", "_" and "-" (no ":"), at most 512 characters';
    const cases: Array<[string[], string]> = [
      [["cancel", "id"], idRule],
      [["cancel", `${running.jobId}:lock`], idRule],
      [["cancel", waiting.jobId, "--reason", ""], "reason: must be 1-256 characters"],
      [["cancel", waiting.jobId, "--reason", "x".repeat(300)], "reason: must be 1-256 characters"],
    ];
    const runs = await Promise.all(cases.map(([args]) => runCli(args, env)));
    runs.forEach((r, i) => {
      const [args, rule] = cases[i]!;
      expect(r.code, `${args.join(" ").slice(0, 60)}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toBe(`pc-invitations cancel: invalid cancel: ${rule}\n`);
      expect(r.stdout).toBe("");
    });
    expect(await p.producer.queue.getJobState(waiting.jobId)).toBe("waiting");
    expect(await countOutcomes(p.redis, p.prefix)).toBe(0);
  }, 150_000);

  it("--help prints the usage with every flag and exits 0", async () => {
    const help = await runCli(["cancel", "--help"]);
    expect(help.code, help.stderr).toBe(0);
    expect(help.stdout).toContain(
      "pc-invitations cancel AWS.pacinv-ABCDEFGHIJKLM.mihq0f2k9c1a2b [--reason TEXT] [--json]",
    );
    expect(help.stdout).toContain("Exit: 0 canceled, 1 refused");
    expect(help.stderr).toBe("");
  });
});
