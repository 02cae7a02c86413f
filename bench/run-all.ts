/**
 * `npm run bench`: runs the pipeline and enqueue benches, prints one JSON document on stdout and
 * writes it to bench/results/latest.json. Progress goes to stderr. Set BENCH_ONLY=pipeline|enqueue
 * to run one of them.
 */
import { cpus, loadavg, totalmem } from "node:os";
import { benchPipeline, pipelineOptionsFromEnv, type PipelineBenchResult } from "./pipeline.js";
import { benchEnqueue, enqueueOptionsFromEnv, type EnqueueBenchResult } from "./enqueue.js";
import { progress, repoRoot, round, sourceInfo, writeResult } from "./common.js";

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
    source: sourceInfo(repoRoot()) ?? null,
    startedAt: new Date(started).toISOString(),
    durationS: round((Date.now() - started) / 1000, 1),
    ...(pipeline ? { pipeline } : {}),
    ...(pipelineNoLatency ? { pipelineNoLatency } : {}),
    ...(enqueue ? { enqueue } : {}),
  };
  progress(`wrote ${await writeResult("latest.json", doc)} in ${doc.durationS} s`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
