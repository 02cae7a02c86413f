/**
 * `npm run chaos`: builds, then runs the chaos suite (docs/chaos.md). One JSON document on stdout,
 * progress on stderr, the document also written to chaos/results/latest.json (or CHAOS_RESULTS_FILE;
 * "" = not written). Exit 0 when every invariant held in every run, 1 when one failed, 2 on bad
 * usage or when the harness itself broke.
 */
import { execFileSync } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { cpus, loadavg } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { INVARIANT_NAMES } from "./evaluate.js";
import { runChaos, type RunSummary } from "./harness.js";
import { chaosOptions, type ChaosOptions } from "./options.js";

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = HERE.split(/[\\/]/).at(-2) === "dist" ? resolve(HERE, "..", "..") : resolve(HERE, "..");

function sourceInfo(): { commit: string; srcUncommittedFiles: number } | null {
  try {
    const git = (...args: string[]) =>
      execFileSync("git", ["-C", ROOT, ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    const dirty = git("status", "--porcelain", "--", "src");
    return {
      commit: git("rev-parse", "--short", "HEAD"),
      srcUncommittedFiles: dirty === "" ? 0 : dirty.split("\n").length,
    };
  } catch {
    return null;
  }
}

function redisVersion(): string | null {
  try {
    return execFileSync("redis-server", ["--version"], { encoding: "utf8" }).match(/v=(\S+)/)?.[1] ?? null;
  } catch {
    return null;
  }
}

/** The knobs that shape a run, for the document (not the output paths). */
function settingsOf(o: ChaosOptions) {
  const { resultsFile: _r, keep: _k, quiet: _q, faults: _f, ...settings } = o;
  return settings;
}

async function main(): Promise<number> {
  let o: ChaosOptions;
  try {
    o = chaosOptions(process.argv.slice(2), process.env);
  } catch (err) {
    process.stderr.write(`chaos: ${(err as Error).message}\n`);
    return 2;
  }
  const progress = (line: string) => {
    if (!o.quiet) process.stderr.write(`[chaos] ${line}\n`);
  };
  const started = Date.now();
  const runs: RunSummary[] = [];
  if (o.each) {
    // A run without faults first: it shows the harness and the system are clean without them.
    runs.push(await runChaos(o, [], "no-fault", progress));
    for (const f of o.faults) runs.push(await runChaos(o, [f], f, progress));
  } else {
    runs.push(await runChaos(o, o.faults, o.faults.length === 0 ? "no-fault" : "all-selected", progress));
  }
  const doc = {
    startedAt: new Date(started).toISOString(),
    durationS: Math.round((Date.now() - started) / 100) / 10,
    source: sourceInfo(),
    machine: {
      cpus: cpus().length,
      node: process.version,
      redis: redisVersion(),
      loadavgAtStart: loadavg().map((x) => Math.round(x * 100) / 100),
    },
    settings: { ...settingsOf(o), faults: o.faults },
    pass: runs.every((r) => r.pass),
    // Per invariant, the runs in which it failed.
    failedInvariants: Object.fromEntries(
      INVARIANT_NAMES.map(
        (name) =>
          [
            name,
            runs.filter((r) => !r.invariants[name].pass).map((r) => `${r.label} (${r.invariants[name].value})`),
          ] as const,
      ).filter(([, failing]) => failing.length > 0),
    ),
    runs,
  };
  const json = JSON.stringify(doc, null, 2);
  const file = o.resultsFile === undefined ? join(ROOT, "chaos", "results", "latest.json") : o.resultsFile;
  if (file) {
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, `${json}\n`);
    progress(`wrote ${file}`);
  }
  process.stdout.write(`${json}\n`);
  return doc.pass ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`chaos: the harness failed: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exit(2);
  },
);
