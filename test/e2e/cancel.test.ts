import { afterEach, describe, expect, it } from "vitest";
import { startPipeline, type Pipeline } from "../helpers/pipeline.js";
import { runCli } from "../helpers/cli.js";
import { waitForOutcomes } from "../helpers/outcomes.js";
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
    expect(JSON.parse(r.stdout)).toMatchObject({ type: "canceled", requestId: waiting.jobId, reason: "not needed after all", identifier: a!.identifier });
    const text = await runCli(["cancel", waiting.jobId], env);
    expect(text.code).toBe(0);
    expect(text.stdout).toBe(`canceled ${waiting.jobId} (${a!.catalog} ${a!.identifier}); nothing was sent to AWS for it\n`);

    // The first accept hangs until the worker's request timeout (20 s) ends it, so the request is
    // active for as long as the cancel CLI takes to start, however loaded the machine (a fixed API
    // latency of 2 s, then 8 s, was not always enough beside a CPU hog). The retry is answered.
    p.emulator.setSwitches({ hang: ["AcceptConnectionInvitation"] });
    const active = await p.producer.enqueue({ catalog: b!.catalog, identifier: b!.identifier });
    await p.startWorker({ AWS_REQUEST_TIMEOUT_MS: 20_000, BACKOFF_DELAY_MS: 100 });
    await waitFor(() => p!.emulator.calls({ operation: "AcceptConnectionInvitation" }).length > 0 || undefined, 10_000, "the accept to start");
    const refused = await runCli(["cancel", active.jobId], env);
    p.emulator.setSwitches({ hang: false });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`request ${active.jobId} is active: only a request that has not started (waiting, delayed, prioritized) can be canceled`);
    const events = await waitForOutcomes(p.redis, p.prefix, 2, { timeoutMs: 45_000 });
    expect(events.map((e) => e.type).sort()).toEqual(["accepted", "canceled"]);
    expect(new Set(p.emulator.calls({ operation: "AcceptConnectionInvitation" }).map((c) => c.identifier))).toEqual(new Set([b!.identifier]));

    const unknown = await runCli(["cancel", "AWS.pacinv-NOSUCHREQUEST.x"], env);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("no request with id");
    const usage = await runCli(["cancel"], env);
    expect(usage.code).toBe(2);
  }, 150_000); // five CLI runs and a 20 s hang: on a loaded machine a CLI run alone took 14 s
});
