/**
 * Faults of the worker's own (no usable credentials, an expired session token, an unknown access
 * key, a skewed clock) are not the request's failure: the work pauses, the worker says so
 * (health, metrics, one error line per episode), the requests stay queued with their attempts intact, and they
 * are accepted once the fault is over. Each answer comes from the emulator's front-door checks
 * through the real SDK.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { startPipeline, TEST_CREDENTIALS, type Pipeline } from "../helpers/pipeline.js";
import { countOutcomes, waitForOutcomes } from "../helpers/outcomes.js";
import { waitFor } from "../helpers/wait.js";
import { createSdkInvitationApi } from "../../src/aws/sdk-invitation-api.js";
import { readHeartbeat } from "../../src/observability/heartbeat.js";

let p: Pipeline | undefined;
const apis: Array<{ destroy(): void }> = [];
const dir = mkdtempSync(join(tmpdir(), "pci-faults-"));
afterEach(async () => {
  await p?.close();
  p = undefined;
  apis.splice(0).forEach((a) => a.destroy());
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A sample's value from the worker's /metrics (a sample line, never the HELP text). */
const metric = async (port: number, re: RegExp) => {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const line = text.split("\n").find((l) => !l.startsWith("#") && re.test(l));
  return Number(line?.match(re)?.[1] ?? NaN);
};

describe("a fault of the worker's own", () => {
  it("no usable credentials: no failed outcome, attempts intact, unhealthy and paused until credentials work", async () => {
    p = await startPipeline({ label: "nocreds" });
    let credentialsWork = false;
    const api = createSdkInvitationApi({
      endpoint: p.emulator.url,
      credentials: async () => {
        if (!credentialsWork) throw Object.assign(new Error("Could not load credentials from any providers"), { name: "CredentialsProviderError" });
        return TEST_CREDENTIALS;
      },
    });
    apis.push(api);
    const invs = p.emulator.seedInvitations(3);
    await p.producer.enqueueMany(invs.map((i) => ({ catalog: i.catalog, identifier: i.identifier })));
    const health = join(dir, "nocreds.health");
    const w = await p.startWorker({ FAULT_PAUSE_MS: 200, FAULT_PAUSE_MAX_MS: 400, METRICS_PORT: 0, HEALTH_FILE: health }, { api });

    await waitFor(() => w.worker.fault ?? undefined, 20_000, "the worker to pause");
    expect(w.worker.fault!.error).toMatchObject({ name: "CredentialsProviderError", kind: "fault" });
    const verdict = await waitFor(async () => {
      const v = await readHeartbeat(health, 60_000);
      return v.ok ? undefined : v;
    }, 20_000, "an unhealthy heartbeat");
    expect(verdict.reason).toContain("CredentialsProviderError");
    expect(await metric(w.metricsPort!, /pci_worker_paused_by_fault (\d+)/)).toBe(1);
    expect(await metric(w.metricsPort!, /pci_worker_faults_total\{error_name="CredentialsProviderError"\} (\d+)/)).toBeGreaterThanOrEqual(1);
    // Nothing failed, nothing reached AWS, and no attempt was spent.
    expect(await countOutcomes(p.redis, p.prefix)).toBe(0);
    expect(p.emulator.calls({ operation: "AcceptConnectionInvitation" })).toHaveLength(0);
    const jobs = await p.producer.queue.getJobs(["waiting", "delayed", "active", "prioritized"]);
    expect(jobs.map((j) => j.attemptsMade)).toEqual([0, 0, 0]);

    credentialsWork = true;
    const events = await waitForOutcomes(p.redis, p.prefix, 3, { timeoutMs: 30_000 });
    expect(events.map((e) => [e.type, e.attempts])).toEqual([["accepted", 1], ["accepted", 1], ["accepted", 1]]);
    await waitFor(async () => (w.worker.fault === null && (await metric(w.metricsPort!, /pci_worker_paused_by_fault (\d+)/)) === 0 ? true : undefined), 10_000, "the fault to clear");
    await waitFor(async () => ((await readHeartbeat(health, 60_000)).ok ? true : undefined), 20_000, "a healthy heartbeat again");
  });

  it.each([
    ["ExpiredTokenException", { expiredSessionTokens: "all" }, { ...TEST_CREDENTIALS, sessionToken: "session-past-expiry" }],
    ["UnrecognizedClientException", { knownAccessKeyIds: ["AKIDSOMEONEELSE"] }, TEST_CREDENTIALS],
    ["InvalidSignatureException", { maxClockSkewSeconds: 300, clockOffsetMs: 20 * 60_000 }, TEST_CREDENTIALS],
    ["ExpiredTokenException", { expiredSessionTokens: "all", authErrorStatus: 400 }, { ...TEST_CREDENTIALS, sessionToken: "session-past-expiry" }],
  ] as const)("%s from AWS's front door pauses the work instead of failing requests", async (name, switches, credentials) => {
    p = await startPipeline({ label: "authfault" });
    p.emulator.setSwitches(switches as never);
    const api = createSdkInvitationApi({ endpoint: p.emulator.url, credentials });
    apis.push(api);
    const invs = p.emulator.seedInvitations(2);
    await p.producer.enqueueMany(invs.map((i) => ({ catalog: i.catalog, identifier: i.identifier })));
    const w = await p.startWorker({ FAULT_PAUSE_MS: 200, FAULT_PAUSE_MAX_MS: 400, METRICS_PORT: 0 }, { api });

    await waitFor(async () => ((await metric(w.metricsPort!, new RegExp(`pci_worker_faults_total\\{error_name="${name}"\\} (\\d+)`))) >= 1 ? true : undefined), 20_000, `a ${name}`);
    // No failed outcome ever (a skewed clock may even heal by itself: the SDK corrects its clock
    // offset from AWS's Date header, so some requests may already be accepted here).

    p.emulator.setSwitches(Object.fromEntries(Object.keys(switches).map((k) => [k, null])) as never);
    const events = await waitForOutcomes(p.redis, p.prefix, 2, { timeoutMs: 30_000 });
    expect(events.map((e) => [e.type, e.attempts])).toEqual([["accepted", 1], ["accepted", 1]]);
  });
});

