/**
 * `npm run bench`: runs the pipeline and enqueue benches, prints one JSON document on stdout and
 * writes it to bench/results/latest.json. Progress goes to stderr. Set BENCH_ONLY=pipeline|enqueue
 * to run one of them.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { cpus, loadavg, totalmem } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { benchPipeline, pipelineOptionsFromEnv, type PipelineBenchResult } from "./pipeline.js";
import { benchEnqueue, enqueueOptionsFromEnv, type EnqueueBenchResult } from "./enqueue.js";
import { progress, round, sourceInfo } from "./common.js";

/** bench/results next to the sources, whether run from dist/bench or with a TS loader from bench/. */
function resultsDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const root = here.split(/[\\/]/).slice(-2, -1)[0] === "dist" ? resolve(here, "..", "..") : resolve(here, "..");
  return join(root, "bench", "results");
}

async function main(): Promise<void> {
  const only = process.env.BENCH_ONLY;
  const started = Date.now();
  const pipelineOptions = pipelineOptionsFromEnv();
  const enqueueOptions = enqueueOptionsFromEnv();
  const cpuList = cpus();
  const machine = {
    cpus: cpuList.length,
    cpuModel: cpuList[0]?.model ?? "unknown",
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    totalMemMb: Math.round(totalmem() / 2 ** 20),
    loadavgAtStart: loadavg().map((x) => round(x)),
  };

  let pipeline: PipelineBenchResult | undefined;
  let pipelineNoLatency: PipelineBenchResult | undefined;
  let enqueue: EnqueueBenchResult | undefined;
  if (only !== "enqueue") pipeline = await benchPipeline(pipelineOptions);
  // The same at 0 ms of API latency (BENCH_ZERO_LATENCY=0 skips it): where our own CPU and Redis
  // round trips, not the API, set the pace.
  if (only !== "enqueue" && pipelineOptions.latencyMs > 0 && process.env.BENCH_ZERO_LATENCY !== "0") {
    progress("pipeline at 0 ms of API latency");
    pipelineNoLatency = await benchPipeline({ ...pipelineOptions, latencyMs: 0 });
  }
  if (only !== "pipeline") enqueue = await benchEnqueue(enqueueOptions);

  const doc = {
    machine: { ...machine, loadavgAtEnd: loadavg().map((x) => round(x)) },
    runs: pipelineOptions.runs,
    source: sourceInfo(resolve(resultsDir(), "..", "..")) ?? null,
    startedAt: new Date(started).toISOString(),
    durationS: round((Date.now() - started) / 1000, 1),
    ...(pipeline ? { pipeline } : {}),
    ...(pipelineNoLatency ? { pipelineNoLatency } : {}),
    ...(enqueue ? { enqueue } : {}),
  };
  const json = JSON.stringify(doc, null, 2);
  const dir = resultsDir();
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "latest.json"), json + "\n");
  process.stdout.write(json + "\n");
  progress(`wrote ${join(dir, "latest.json")} in ${doc.durationS} s`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
