/**
 * Single-request HTTP ingest of this build against another build (an older commit), side by side:
 * `http-load` run in pairs, the order alternating, each pair's ratio computed inside the pair;
 * medians with the range. Prints one JSON document and writes it to bench/results/http.json.
 *
 *   git worktree add /tmp/base <commit> && (cd /tmp/base && npm ci && npm run build)
 *   npm run build && BENCH_HTTP_BASELINE_CLI=/tmp/base/dist/src/cli/main.js node dist/bench/http-compare.js
 *   BENCH_HTTP_PAIRS=3 (pairs), BENCH_HTTP_BASELINE_LABEL=<commit> (its name in the JSON), and
 *   http-load's own BENCH_HTTP_DURATION_S / BENCH_HTTP_CONNECTIONS / BENCH_HTTP_BATCH.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { envInt, envString, progress, repoRoot, round, sourceInfo, spread, writeResult } from "./common.js";

interface LoadResult {
  requestsPerSec: number;
  latencyMs: { p50: number; p99: number };
  non2xx: number;
  errors: number;
}

const LOAD = fileURLToPath(new URL("./http-load.js", import.meta.url));

async function load(cli: string | undefined): Promise<LoadResult> {
  const env = { ...process.env };
  if (cli) env.BENCH_HTTP_CLI = cli;
  else delete env.BENCH_HTTP_CLI;
  const { stdout } = await promisify(execFile)(process.execPath, [LOAD], { env, maxBuffer: 1 << 20 });
  return JSON.parse(stdout.trim().split("\n").pop()!) as LoadResult;
}

async function main(): Promise<void> {
  const baselineCli = envString("BENCH_HTTP_BASELINE_CLI", "");
  if (!baselineCli || !existsSync(baselineCli))
    throw new Error("BENCH_HTTP_BASELINE_CLI must name another build's dist/src/cli/main.js (see this file's header)");
  const label = envString("BENCH_HTTP_BASELINE_LABEL", baselineCli);
  const pairs = envInt("BENCH_HTTP_PAIRS", 3, 1);
  const started = Date.now();
  const runs: Array<{ pair: number; order: string; current: LoadResult; baseline: LoadResult; ratio: number }> = [];
  for (let pair = 0; pair < pairs; pair++) {
    const baselineFirst = pair % 2 === 1;
    const first = await load(baselineFirst ? baselineCli : undefined);
    const second = await load(baselineFirst ? undefined : baselineCli);
    const [current, baseline] = baselineFirst ? [second, first] : [first, second];
    const ratio = round(current.requestsPerSec / baseline.requestsPerSec, 3);
    runs.push({ pair, order: baselineFirst ? "baseline,current" : "current,baseline", current, baseline, ratio });
    progress(
      `http-compare pair ${pair + 1}/${pairs}: ${current.requestsPerSec} ` +
        `vs ${baseline.requestsPerSec} req/s (×${ratio})`,
    );
  }
  const doc = {
    bench: "http-compare",
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? "unknown",
      node: process.version,
      loadavgAtEnd: loadavg().map((x) => round(x)),
    },
    source: sourceInfo(repoRoot()),
    baseline: label,
    startedAt: new Date(started).toISOString(),
    durationS: round((Date.now() - started) / 1000, 1),
    settings: {
      pairs,
      durationS: envInt("BENCH_HTTP_DURATION_S", 10, 1),
      connections: envInt("BENCH_HTTP_CONNECTIONS", 50, 1),
      batch: envInt("BENCH_HTTP_BATCH", 0, 0),
    },
    requestsPerSec: {
      current: spread(runs.map((r) => r.current.requestsPerSec)),
      baseline: spread(runs.map((r) => r.baseline.requestsPerSec)),
      ratio: spread(runs.map((r) => r.ratio)),
    },
    p99Ms: {
      current: spread(runs.map((r) => r.current.latencyMs.p99)),
      baseline: spread(runs.map((r) => r.baseline.latencyMs.p99)),
    },
    failures: runs.reduce((n, r) => n + r.current.non2xx + r.current.errors + r.baseline.non2xx + r.baseline.errors, 0),
    targets: { atLeast2xBaseline: spread(runs.map((r) => r.ratio)).median >= 2 },
    runs,
  };
  await writeResult("http.json", doc);
}

main().catch((err) => {
  process.stderr.write(`http-compare: ${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});
