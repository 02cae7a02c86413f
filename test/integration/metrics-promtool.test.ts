import { spawn } from "node:child_process";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Redis } from "ioredis";
import { newRedis } from "../helpers/redis.js";
import { call, useHttpServers } from "../helpers/http-server.js";
import { startPipeline, type Pipeline } from "../helpers/pipeline.js";
import { waitForOutcomes } from "../helpers/outcomes.js";

/**
 * What the HTTP server's and a worker's /metrics expose passes `promtool check metrics`
 * (Prometheus' own linter: `_total` only on counters, base units, help on every metric…), with
 * samples in every kind of series (counters, histograms, gauges read at scrape time). promtool
 * comes with Debian's `prometheus` package; .ci/run installs it when it is missing.
 */

/** promtool's verdict on a scrape: its exit code and everything it printed. */
function promtoolCheck(text: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn("promtool", ["check", "metrics"], { stdio: ["pipe", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    child.on("error", (err: NodeJS.ErrnoException) =>
      reject(
        err.code === "ENOENT"
          ? new Error("promtool is not installed: apt-get install -y prometheus (.ci/run does it)")
          : err,
      ),
    );
    child.on("close", (code) => resolve({ code, output }));
    child.stdin.end(text);
  });
}

let redis: Redis;
const { startServer, closeAll } = useHttpServers(() => redis);
let pipeline: Pipeline | undefined;
beforeAll(() => {
  redis = newRedis();
});
afterEach(async () => {
  await closeAll();
  await pipeline?.close();
  pipeline = undefined;
});
afterAll(() => {
  redis.disconnect();
});

describe("promtool check metrics", () => {
  it("passes the HTTP server's /metrics, after enqueues, errors and lookups", async () => {
    const s = await startServer();
    const valid = { catalog: "Sandbox", identifier: "pacinv-PROMTOOL00001" };
    expect((await call(s, "/v1/acceptances", { json: valid })).status).toBe(202);
    expect((await call(s, "/v1/acceptances", { json: valid })).status).toBe(202);
    expect((await call(s, "/v1/acceptances", { json: { catalog: 1 } })).status).toBe(400);
    expect((await call(s, "/nowhere")).status).toBe(404);
    const scrape = await call(s, "/metrics", { token: null });
    expect(scrape.status).toBe(200);
    // Samples of each kind are there to be checked: a counter, a histogram, a scrape-time gauge.
    expect(scrape.text).toMatch(/^pci_requests_enqueued_total\{duplicate="true"\} 1$/m);
    expect(scrape.text).toMatch(/^pci_http_request_duration_seconds_bucket\{/m);
    expect(scrape.text).toMatch(/^pci_queue_jobs\{queue="accept-invitation",state="waiting"\} 1$/m);
    expect(scrape.text).toMatch(/^nodejs_active_handles\{/m);
    expect(await promtoolCheck(scrape.text)).toEqual({ code: 0, output: "" });
  });

  it("passes a worker's /metrics (METRICS_PORT), after outcomes, retries, throttles and AWS calls", async () => {
    pipeline = await startPipeline({ label: "promtool" });
    const invs = pipeline.emulator.seedInvitations(2);
    pipeline.emulator.script({
      operation: "AcceptConnectionInvitation",
      identifier: invs[0]!.identifier,
      times: 1,
      error: "ThrottlingException",
    });
    pipeline.emulator.script({
      operation: "AcceptConnectionInvitation",
      identifier: invs[1]!.identifier,
      times: 1,
      error: "InternalServerException",
    });
    await pipeline.producer.enqueueMany([
      ...invs.map((i) => ({ catalog: i.catalog, identifier: i.identifier })),
      { catalog: "AWS", identifier: "pacinv-PROMTOOLNONE0" },
    ]);
    const w = await pipeline.startWorker({ METRICS_PORT: 0 });
    await waitForOutcomes(pipeline.redis, pipeline.prefix, 3);
    const text = await (await fetch(`http://127.0.0.1:${w.metricsPort}/metrics`)).text();
    expect(text).toMatch(/^pci_outcomes_total\{type="failed",error_name="ResourceNotFoundException"\} 1$/m);
    expect(text).toMatch(/^pci_throttles_total 1$/m);
    expect(text).toMatch(/^pci_retries_total 1$/m);
    expect(text).toMatch(/^pci_aws_call_duration_seconds_count\{/m);
    expect(await promtoolCheck(text)).toEqual({ code: 0, output: "" });
  });
});
