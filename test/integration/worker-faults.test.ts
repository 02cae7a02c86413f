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
import { Worker } from "bullmq";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { startPipeline, TEST_CREDENTIALS, type Pipeline } from "../helpers/pipeline.js";
import { countOutcomes, waitForOutcomes } from "../helpers/outcomes.js";
import { waitFor } from "../helpers/wait.js";
import { newRedis } from "../helpers/redis.js";
import { createSdkInvitationApi } from "../../src/aws/sdk-invitation-api.js";
import type { InvitationApi } from "../../src/aws/invitation-api.js";
import type { SeededInvitation } from "../../src/emulator/index.js";
import { readHeartbeat } from "../../src/observability/heartbeat.js";
import { createRequestControl } from "../../src/app/request-control.js";

let p: Pipeline | undefined;
const apis: Array<{ destroy(): void }> = [];
const dir = mkdtempSync(join(tmpdir(), "pci-faults-"));
afterEach(async () => {
  await p?.close();
  p = undefined;
  for (const a of apis.splice(0)) a.destroy();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A sample's value from the worker's /metrics (a sample line, never the HELP text). */
const metric = async (port: number, re: RegExp) => {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const line = text.split("\n").find((l) => !l.startsWith("#") && re.test(l));
  return Number(line?.match(re)?.[1] ?? NaN);
};

describe("a fault of the worker's own", () => {
  it(
    "no usable credentials: no failed outcome, attempts " + "intact, unhealthy and paused until credentials work",
    async () => {
      p = await startPipeline({ label: "nocreds" });
      let credentialsWork = false;
      const api = createSdkInvitationApi({
        endpoint: p.emulator.url,
        credentials: async () => {
          if (!credentialsWork)
            throw Object.assign(new Error("Could not load credentials from any providers"), {
              name: "CredentialsProviderError",
            });
          return TEST_CREDENTIALS;
        },
      });
      apis.push(api);
      const invs = p.emulator.seedInvitations(3);
      await p.producer.enqueueMany(invs.map((i) => ({ catalog: i.catalog, identifier: i.identifier })));
      const health = join(dir, "nocreds.health");
      const w = await p.startWorker(
        { FAULT_PAUSE_MS: 200, FAULT_PAUSE_MAX_MS: 400, METRICS_PORT: 0, HEALTH_FILE: health },
        { api },
      );

      await waitFor(() => w.worker.fault ?? undefined, 20_000, "the worker to pause");
      expect(w.worker.fault!.error).toMatchObject({ name: "CredentialsProviderError", kind: "fault" });
      const verdict = await waitFor(
        async () => {
          const v = await readHeartbeat(health, 60_000);
          return v.ok ? undefined : v;
        },
        20_000,
        "an unhealthy heartbeat",
      );
      expect(verdict.reason).toContain("CredentialsProviderError");
      expect(await metric(w.metricsPort!, /pci_worker_paused_by_fault (\d+)/)).toBe(1);
      expect(
        await metric(w.metricsPort!, /pci_worker_faults_total\{error_name="CredentialsProviderError"\} (\d+)/),
      ).toBeGreaterThanOrEqual(1);
      // Nothing failed, nothing reached AWS, and no attempt was spent.
      expect(await countOutcomes(p.redis, p.prefix)).toBe(0);
      expect(p.emulator.calls({ operation: "AcceptConnectionInvitation" })).toHaveLength(0);
      const jobs = await p.producer.queue.getJobs(["waiting", "delayed", "active", "prioritized"]);
      expect(jobs.map((j) => j.attemptsMade)).toEqual([0, 0, 0]);

      credentialsWork = true;
      const events = await waitForOutcomes(p.redis, p.prefix, 3, { timeoutMs: 30_000 });
      expect(events.map((e) => [e.type, e.attempts])).toEqual([
        ["accepted", 1],
        ["accepted", 1],
        ["accepted", 1],
      ]);
      await waitFor(
        async () =>
          w.worker.fault === null && (await metric(w.metricsPort!, /pci_worker_paused_by_fault (\d+)/)) === 0
            ? true
            : undefined,
        10_000,
        "the fault to clear",
      );
      await waitFor(
        async () => ((await readHeartbeat(health, 60_000)).ok ? true : undefined),
        20_000,
        "a healthy heartbeat again",
      );
    },
  );

  it(
    "while paused takes no other job: only the runs in flight " + "when the fault came reach AWS during FAULT_PAUSE_MS",
    async () => {
      p = await startPipeline({ label: "pausefault" });
      p.emulator.setSwitches({ knownAccessKeyIds: ["AKIDSOMEONEELSE"] } as never);
      const api = createSdkInvitationApi({ endpoint: p.emulator.url, credentials: TEST_CREDENTIALS });
      apis.push(api);
      const invs = p.emulator.seedInvitations(8);
      await p.producer.enqueueMany(invs.map((i) => ({ catalog: i.catalog, identifier: i.identifier })));
      // A pause far longer than the look below: a worker that kept taking jobs would call for all 8.
      const w = await p.startWorker(
        { WORKER_CONCURRENCY: 2, FAULT_PAUSE_MS: 120_000, FAULT_PAUSE_MAX_MS: 120_000 },
        { api },
      );
      await waitFor(() => w.worker.fault ?? undefined, 20_000, "the worker to pause");
      await new Promise((resolve) => setTimeout(resolve, 2000));
      expect(p.emulator.calls().length).toBeLessThanOrEqual(2);
      expect(await countOutcomes(p.redis, p.prefix)).toBe(0);
      expect(await p.producer.queue.getJobCountByTypes("waiting")).toBeGreaterThanOrEqual(6);
    },
  );

  it.each([
    [
      "ExpiredTokenException",
      { expiredSessionTokens: "all" },
      { ...TEST_CREDENTIALS, sessionToken: "session-past-expiry" },
    ],
    ["UnrecognizedClientException", { knownAccessKeyIds: ["AKIDSOMEONEELSE"] }, TEST_CREDENTIALS],
    ["InvalidSignatureException", { maxClockSkewSeconds: 300, clockOffsetMs: 20 * 60_000 }, TEST_CREDENTIALS],
    [
      "ExpiredTokenException",
      { expiredSessionTokens: "all", authErrorStatus: 400 },
      { ...TEST_CREDENTIALS, sessionToken: "session-past-expiry" },
    ],
  ] as const)(
    "%s from AWS's front door pauses the work instead of failing requests",
    async (name, switches, credentials) => {
      p = await startPipeline({ label: "authfault" });
      p.emulator.setSwitches(switches as never);
      const api = createSdkInvitationApi({ endpoint: p.emulator.url, credentials });
      apis.push(api);
      const invs = p.emulator.seedInvitations(2);
      await p.producer.enqueueMany(invs.map((i) => ({ catalog: i.catalog, identifier: i.identifier })));
      const w = await p.startWorker({ FAULT_PAUSE_MS: 200, FAULT_PAUSE_MAX_MS: 400, METRICS_PORT: 0 }, { api });

      await waitFor(
        async () =>
          (await metric(w.metricsPort!, new RegExp(`pci_worker_faults_total\\{error_name="${name}"\\} (\\d+)`))) >= 1
            ? true
            : undefined,
        20_000,
        `a ${name}`,
      );
      // No failed outcome ever (a skewed clock may even heal by itself: the SDK corrects its clock
      // offset from AWS's Date header, so some requests may already be accepted here).

      p.emulator.setSwitches(Object.fromEntries(Object.keys(switches).map((k) => [k, null])) as never);
      const events = await waitForOutcomes(p.redis, p.prefix, 2, { timeoutMs: 30_000 });
      expect(events.map((e) => [e.type, e.attempts])).toEqual([
        ["accepted", 1],
        ["accepted", 1],
      ]);
    },
  );
});

/** The SDK adapter, with a hook after each AcceptConnectionInvitation (to change the world between two calls). */
function withAfterAccept(api: InvitationApi, after: (acceptsSoFar: number) => void): InvitationApi {
  let accepts = 0;
  return {
    act: async (operation, input, options) => {
      try {
        return await api.act(operation, input, options);
      } finally {
        if (operation === "AcceptConnectionInvitation") after(++accepts);
      }
    },
    getInvitation: (input, options) => api.getInvitation(input, options),
    listInvitations: (input, options) => api.listInvitations(input, options),
    getConnection: (input, options) => api.getConnection(input, options),
    listConnections: (input, options) => api.listConnections(input, options),
  };
}

const faultCount = (port: number, name: string) =>
  metric(port, new RegExp(`pci_worker_faults_total\\{error_name="${name}"\\} (\\d+)`));

describe("a fault of the worker's own during a look-up of the invitation", () => {
  /**
   * How AWS comes to refuse the look-up: a scripted front-door answer for that one call (a token
   * expiring, a key deactivated, a signature mangled between two calls), or a switch the test turns
   * on right after the last Accept (and `lift` turns off again).
   */
  type Setup = (p: Pipeline, inv: SeededInvitation) => { api?: InvitationApi; lift?: () => void };
  const scripted =
    (
      error:
        | "ExpiredTokenException"
        | "InvalidSignatureException"
        | "UnrecognizedClientException"
        | "IncompleteSignatureException",
    ): Setup =>
    (pl, inv) => {
      pl.emulator.script({ operation: "GetConnectionInvitation", identifier: inv.identifier, times: 1, error });
      return {};
    };
  const cases: Array<[string, Setup]> = [
    ["ExpiredTokenException", scripted("ExpiredTokenException")],
    ["InvalidSignatureException", scripted("InvalidSignatureException")],
    ["UnrecognizedClientException", scripted("UnrecognizedClientException")],
    ["IncompleteSignatureException", scripted("IncompleteSignatureException")],
    [
      "ExpiredTokenException",
      (pl) => {
        // The session token expires between the last Accept and the look-up (expiredSessionTokens switch).
        const sdk = createSdkInvitationApi({
          endpoint: pl.emulator.url,
          credentials: { ...TEST_CREDENTIALS, sessionToken: "session-1" },
        });
        apis.push(sdk);
        return {
          api: withAfterAccept(sdk, (n) => n === 2 && pl.emulator.setSwitches({ expiredSessionTokens: ["session-1"] })),
          lift: () => pl.emulator.setSwitches({ expiredSessionTokens: null } as never),
        };
      },
    ],
    [
      "CredentialsProviderError",
      (pl) => {
        // The credential source stops answering between the last Accept and the look-up.
        let gone = false;
        const sdk = createSdkInvitationApi({
          endpoint: pl.emulator.url,
          credentials: async () => {
            if (gone)
              throw Object.assign(new Error("Could not load credentials from any providers"), {
                name: "CredentialsProviderError",
              });
            // Short-lived, so the SDK asks again for every call.
            return { ...TEST_CREDENTIALS, expiration: new Date(Date.now() + 60_000) };
          },
        });
        apis.push(sdk);
        return { api: withAfterAccept(sdk, (n) => void (n === 2 && (gone = true))), lift: () => void (gone = false) };
      },
    ],
  ];

  it.each(cases)(
    "%s after the last attempt's call went unanswered: no failed outcome, the " +
      "job goes back with its attempts, and is accepted once the fault is over",
    async (name, setup) => {
      p = await startPipeline({ label: "lookupfault", retry: { attempts: 2 } });
      const inv = p.emulator.seedInvitation();
      // Both attempts end in a 500; the second was carried out first (its answer lost), so only the look-up can tell.
      p.emulator.script({
        operation: "AcceptConnectionInvitation",
        identifier: inv.identifier,
        times: 1,
        error: "InternalServerException",
      });
      p.emulator.script({
        operation: "AcceptConnectionInvitation",
        identifier: inv.identifier,
        times: 1,
        error: "InternalServerException",
        applyFirst: true,
      });
      const { api, lift } = setup(p, inv);
      const r = await p.producer.enqueue({ catalog: inv.catalog, identifier: inv.identifier });
      const w = await p.startWorker(
        { FAULT_PAUSE_MS: 200, FAULT_PAUSE_MAX_MS: 400, METRICS_PORT: 0 },
        api ? { api } : {},
      );

      // The refused look-up, or (were it the request's failure) an outcome.
      await waitFor(
        async () =>
          (await faultCount(w.metricsPort!, name)) >= 1 || (await countOutcomes(p!.redis, p!.prefix)) > 0
            ? true
            : undefined,
        20_000,
        `a ${name} on the look-up`,
      );
      if (lift) {
        // While the fault lasts: paused, no outcome, the job queued with the one attempt it used.
        await waitFor(() => w.worker.fault ?? undefined, 10_000, "the worker to pause");
        expect(await countOutcomes(p.redis, p.prefix)).toBe(0);
        const job = await p.producer.queue.getJob(r.jobId);
        expect(["delayed", "waiting", "active", "prioritized"]).toContain(await job!.getState());
        expect(job!.attemptsMade).toBe(1);
        lift();
      }

      const [event] = await waitForOutcomes(p.redis, p.prefix, 1, { timeoutMs: 30_000 });
      // The run after the pause sent the same ClientToken; AWS replayed the acceptance it had made.
      expect(event).toMatchObject({ type: "accepted", requestId: r.jobId, attempts: 2 });
      expect(await faultCount(w.metricsPort!, name)).toBeGreaterThanOrEqual(1);
      expect((await p.producer.queue.getJob(r.jobId))!.attemptsMade).toBe(2);
      const accepts = p.emulator.calls({ operation: "AcceptConnectionInvitation" });
      expect(new Set(accepts.map((c) => c.clientToken))).toEqual(new Set([r.clientToken]));
      expect(accepts.at(-1)).toMatchObject({ status: 200, replayed: true });
      await waitFor(() => (w.worker.fault === null ? true : undefined), 10_000, "the fault to clear");
    },
  );

  it(
    "IncompleteSignatureException on the look-up after a " +
      "ConflictException: paused, then accepted (alreadyAccepted)",
    async () => {
      p = await startPipeline({ label: "conflictfault" });
      const inv = p.emulator.seedInvitation({ status: "ACCEPTED" });
      p.emulator.script({
        operation: "GetConnectionInvitation",
        identifier: inv.identifier,
        times: 1,
        error: "IncompleteSignatureException",
      });
      const r = await p.producer.enqueue({ catalog: inv.catalog, identifier: inv.identifier });
      const w = await p.startWorker({ FAULT_PAUSE_MS: 200, FAULT_PAUSE_MAX_MS: 400, METRICS_PORT: 0 });
      const [event] = await waitForOutcomes(p.redis, p.prefix, 1, { timeoutMs: 30_000 });
      expect(event).toMatchObject({ type: "accepted", alreadyAccepted: true, attempts: 1 });
      expect((await p.producer.queue.getJob(r.jobId))!.attemptsMade).toBe(1);
      expect(await faultCount(w.metricsPort!, "IncompleteSignatureException")).toBe(1);
      expect(p.emulator.calls({ operation: "GetConnectionInvitation" }).map((c) => c.errorType ?? c.status)).toEqual([
        "IncompleteSignatureException",
        200,
      ]);
    },
  );

  it(
    "a job BullMQ gave up on (lost workers) whose look-up is refused gets no " +
      "outcome; the sweeper defers it while the fault lasts, then gives it back",
    async () => {
      p = await startPipeline({ label: "abandonfault" });
      const inv = p.emulator.seedInvitation();
      const r = await p.producer.enqueue({ catalog: inv.catalog, identifier: inv.identifier });
      // A worker takes the job and dies holding it (its lock is not renewed).
      const connection = newRedis();
      const lost = new Worker(p.config.REQUESTS_QUEUE, () => new Promise<never>(() => undefined), {
        connection,
        prefix: p.prefix,
        lockDuration: 1000,
        skipStalledCheck: true,
      });
      await waitFor(
        async () => ((await p!.producer.queue.getJobCountByTypes("active")) === 1 ? true : undefined),
        20_000,
        "the lost worker to take the job",
      );
      await lost.close(true);
      connection.disconnect();
      // Refused: the abandoned job's look-up, then the first sweep's.
      p.emulator.script({
        operation: "GetConnectionInvitation",
        identifier: inv.identifier,
        times: 2,
        error: "ExpiredTokenException",
      });
      const w = await p.startWorker({
        MAX_STALLED_COUNT: 0,
        STALLED_INTERVAL_MS: 300,
        SWEEP_INTERVAL_MS: 0,
        SWEEP_GRACE_MS: 0,
        FAULT_PAUSE_MS: 200,
        FAULT_PAUSE_MAX_MS: 400,
      });

      // The abandoned job's refused look-up trips the worker's fault pause (or, were it the request's failure, an
      // outcome).
      await waitFor(
        async () => (w.worker.fault !== null || (await countOutcomes(p!.redis, p!.prefix)) > 0 ? true : undefined),
        30_000,
        "the refused look-up of the abandoned job",
      );
      expect(await countOutcomes(p.redis, p.prefix)).toBe(0);
      expect(w.worker.fault?.error.name).toBe("ExpiredTokenException");
      expect(await p.producer.queue.getJobState(r.jobId)).toBe("failed");

      expect(await w.sweep()).toMatchObject({
        failedJobsChecked: 1,
        deferred: 1,
        fault: "ExpiredTokenException",
        revived: 0,
        finished: 0,
      });
      expect(await countOutcomes(p.redis, p.prefix)).toBe(0);
      expect(await w.sweep()).toMatchObject({ revived: 1, deferred: 0 });
      const [event] = await waitForOutcomes(p.redis, p.prefix, 1, { timeoutMs: 30_000 });
      expect(event).toMatchObject({
        type: "accepted",
        requestId: r.jobId,
        clientToken: r.clientToken,
        alreadyAccepted: false,
      });
    },
  );
});

describe("a fault of the worker's own on a redrive's read of the invitation", () => {
  /**
   * How AWS comes to refuse the read the redrive's run makes before any call: the session token
   * expires once the first request has failed (the expiredSessionTokens switch, lifted by the test),
   * or one scripted front-door refusal of that read.
   */
  interface Fault {
    sessionToken?: string;
    start(pl: Pipeline, inv: SeededInvitation): void;
    lift?(pl: Pipeline): void;
  }
  const cases: Array<[string, Fault]> = [
    [
      "ExpiredTokenException",
      {
        sessionToken: "session-1",
        start: (pl) => pl.emulator.setSwitches({ expiredSessionTokens: ["session-1"] }),
        lift: (pl) => pl.emulator.setSwitches({ expiredSessionTokens: null } as never),
      },
    ],
    [
      "InvalidSignatureException",
      {
        start: (pl, inv) =>
          pl.emulator.script({
            operation: "GetConnectionInvitation",
            identifier: inv.identifier,
            times: 1,
            error: "InvalidSignatureException",
          }),
      },
    ],
  ];

  it.each(cases)(
    "%s on the read: the redriven request does not fail; the worker pauses, " +
      "the job keeps its attempts, and it is accepted once the fault is over",
    async (name, fault) => {
      p = await startPipeline({ label: "redrivefault" });
      const inv = p.emulator.seedInvitation();
      p.emulator.script({
        operation: "AcceptConnectionInvitation",
        identifier: inv.identifier,
        times: 1,
        error: "AccessDeniedException",
        reason: "ACCESS_DENIED",
      });
      const sdk = createSdkInvitationApi({
        endpoint: p.emulator.url,
        credentials: { ...TEST_CREDENTIALS, ...(fault.sessionToken ? { sessionToken: fault.sessionToken } : {}) },
      });
      apis.push(sdk);
      const failed = await p.producer.enqueue({ catalog: inv.catalog, identifier: inv.identifier });
      const w = await p.startWorker({ FAULT_PAUSE_MS: 200, FAULT_PAUSE_MAX_MS: 400, METRICS_PORT: 0 }, { api: sdk });
      expect(await waitForOutcomes(p.redis, p.prefix, 1, { timeoutMs: 30_000 })).toMatchObject([
        { type: "failed", requestId: failed.jobId, error: { name: "AccessDeniedException" } },
      ]);

      fault.start(p, inv);
      const control = createRequestControl(p.config, p.redis, p.producer, { api: p.api });
      let redriven: string;
      try {
        const summary = await control.redrive({ errorNames: ["AccessDeniedException"] });
        expect(summary).toMatchObject({ found: 1, redriven: 1 });
        redriven = summary.requests[0]!.jobId!;
      } finally {
        await control.close();
      }

      // The refused read, or (were it the request's failure) a second outcome.
      await waitFor(
        async () =>
          (await faultCount(w.metricsPort!, name)) >= 1 || (await countOutcomes(p!.redis, p!.prefix)) > 1
            ? true
            : undefined,
        30_000,
        `a ${name} on the redrive's read`,
      );
      if (fault.lift) {
        // While the fault lasts: paused, no outcome for the redrive, its job queued without a spent attempt, no Accept.
        await waitFor(
          async () => w.worker.fault ?? ((await countOutcomes(p!.redis, p!.prefix)) > 1 ? "an outcome" : undefined),
          10_000,
          "the worker to pause",
        );
        expect(await countOutcomes(p.redis, p.prefix)).toBe(1);
        expect(w.worker.fault!.error).toMatchObject({ name, kind: "fault" });
        const job = await p.producer.queue.getJob(redriven);
        expect(["delayed", "waiting", "active", "prioritized"]).toContain(await job!.getState());
        expect(job!.attemptsMade).toBe(0);
        expect(p.emulator.calls({ operation: "AcceptConnectionInvitation" })).toHaveLength(1);
        fault.lift(p);
      }

      const events = await waitForOutcomes(p.redis, p.prefix, 2, { timeoutMs: 30_000 });
      const event = events.find((e) => e.requestId === redriven);
      // One attempt: the runs the fault stopped did not count.
      expect(event).toMatchObject({ type: "accepted", redriveOf: failed.jobId, alreadyAccepted: false, attempts: 1 });
      expect((await p.producer.queue.getJob(redriven))!.attemptsMade).toBe(1);
      expect(await faultCount(w.metricsPort!, name)).toBeGreaterThanOrEqual(1);
      const reads = p.emulator.calls({ operation: "GetConnectionInvitation", identifier: inv.identifier });
      expect(reads[0]).toMatchObject({ errorType: name });
      expect(reads.at(-1)).toMatchObject({ status: 200 });
      // Then one Accept, with the redrive's own ClientToken.
      const accepts = p.emulator.calls({ operation: "AcceptConnectionInvitation", identifier: inv.identifier });
      expect(accepts.map((c) => c.clientToken)).toEqual([
        failed.clientToken,
        (event as { clientToken: string }).clientToken,
      ]);
      expect(accepts[1]!.clientToken).not.toBe(failed.clientToken);
      await waitFor(() => (w.worker.fault === null ? true : undefined), 10_000, "the fault to clear");
    },
  );
});
