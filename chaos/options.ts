/**
 * Knobs of the chaos suite: environment variables, each overridable by a flag
 * (`--requests 500`, `--faults worker-kill,redis-full`, `--skip corrupt-job`, `--each`, `--fast`).
 * docs/chaos.md lists them all.
 */
import { parseArgs } from "node:util";

/** Every fault the harness can inject, in the order a run injects them. */
export const FAULT_KINDS = [
  "worker-kill",
  "api-5xx-before",
  "api-5xx-after",
  "api-connection-reset",
  "redis-connection-reset",
  "invalid-job",
  "consumer-throw",
  "consumer-kill",
  "redis-freeze",
  "redis-term-always",
  "redis-term-everysec",
  "redis-kill-always",
  "redis-kill-everysec",
  "corrupt-job",
  "redis-full",
  "redis-restart-full",
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface ChaosOptions {
  /** Requests the producers submit. */
  requests: number;
  faults: FaultKind[];
  /** One run per fault (plus a run without faults) instead of one run with every fault. */
  each: boolean;
  /** Times the fault list is gone through in one run. */
  rounds: number;
  workers: number;
  workerConcurrency: number;
  producers: number;
  /** Requests per enqueueMany. */
  batch: number;
  /** Emulator latency per API call, ms. */
  latencyMs: number;
  /** LOCK_DURATION_MS of the workers and lockDurationMs of the outcome consumer. */
  lockDurationMs: number;
  stalledIntervalMs: number;
  /** MAX_STALLED_COUNT of the workers. */
  maxStalledCount: number;
  jobAttempts: number;
  backoffDelayMs: number;
  /** How long Redis stays full. */
  redisFullMs: number;
  /** How long Redis is frozen (SIGSTOP); the default is past the lock duration. */
  freezeMs: number;
  /** How long a killed Redis stays down before it is restarted. */
  redisDownMs: number;
  /** How long errorRate 5xx and the consumer's throwing last. */
  faultWindowMs: number;
  /** Scripted 5xx-after / resets per injection. */
  scriptedFaults: number;
  /** Corrupt / invalid jobs per injection. */
  corruptJobs: number;
  /** Pause between two faults. */
  gapMs: number;
  /** Stop waiting for outcomes when nothing new was delivered for this long. */
  stallTimeoutMs: number;
  /** Longest wait for outcomes after the last fault. */
  settleTimeoutMs: number;
  /** Re-submit acknowledged requests left without outcome, as a caller would, and count what that recovers. */
  resubmit: boolean;
  /** Where the JSON document is written; "" = nowhere. */
  resultsFile: string | undefined;
  /** Keep the temp dir (Redis AOF, process logs). */
  keep: boolean;
  quiet: boolean;
}

/** Small and quick: what `npm test` runs (a few hundred requests, each fault once). */
const FAST: Partial<ChaosOptions> = {
  requests: 400,
  workers: 2,
  producers: 1,
  batch: 25,
  lockDurationMs: 2000,
  stalledIntervalMs: 500,
  redisFullMs: 5000,
  freezeMs: 3000,
  redisDownMs: 300,
  faultWindowMs: 1500,
  scriptedFaults: 4,
  corruptJobs: 2,
  gapMs: 400,
  stallTimeoutMs: 15_000,
  settleTimeoutMs: 40_000,
};

const DEFAULTS: Omit<ChaosOptions, "resultsFile"> = {
  requests: 5000,
  faults: [...FAULT_KINDS],
  each: false,
  rounds: 1,
  workers: 3,
  workerConcurrency: 16,
  producers: 2,
  batch: 50,
  /** About what AWS answers in; long enough that kills and freezes catch calls in flight. */
  latencyMs: 100,
  lockDurationMs: 4000,
  stalledIntervalMs: 1000,
  maxStalledCount: 5,
  jobAttempts: 6,
  backoffDelayMs: 100,
  redisFullMs: 30_000,
  freezeMs: 6000,
  redisDownMs: 1000,
  faultWindowMs: 4000,
  scriptedFaults: 20,
  corruptJobs: 3,
  gapMs: 2000,
  stallTimeoutMs: 45_000,
  settleTimeoutMs: 180_000,
  resubmit: true,
  keep: false,
  quiet: false,
};

const NUMERIC: Array<[keyof ChaosOptions, string, number]> = [
  ["requests", "CHAOS_REQUESTS", 1],
  ["rounds", "CHAOS_ROUNDS", 1],
  ["workers", "CHAOS_WORKERS", 1],
  ["workerConcurrency", "CHAOS_WORKER_CONCURRENCY", 1],
  ["producers", "CHAOS_PRODUCERS", 1],
  ["batch", "CHAOS_BATCH", 1],
  ["latencyMs", "CHAOS_LATENCY_MS", 0],
  ["lockDurationMs", "CHAOS_LOCK_DURATION_MS", 500],
  ["stalledIntervalMs", "CHAOS_STALLED_INTERVAL_MS", 100],
  ["maxStalledCount", "CHAOS_MAX_STALLED_COUNT", 0],
  ["jobAttempts", "CHAOS_JOB_ATTEMPTS", 1],
  ["backoffDelayMs", "CHAOS_BACKOFF_DELAY_MS", 0],
  ["redisFullMs", "CHAOS_REDIS_FULL_MS", 0],
  ["freezeMs", "CHAOS_FREEZE_MS", 0],
  ["redisDownMs", "CHAOS_REDIS_DOWN_MS", 0],
  ["faultWindowMs", "CHAOS_FAULT_WINDOW_MS", 0],
  ["scriptedFaults", "CHAOS_SCRIPTED_FAULTS", 1],
  ["corruptJobs", "CHAOS_CORRUPT_JOBS", 1],
  ["gapMs", "CHAOS_GAP_MS", 0],
  ["stallTimeoutMs", "CHAOS_STALL_TIMEOUT_MS", 1000],
  ["settleTimeoutMs", "CHAOS_SETTLE_TIMEOUT_MS", 1000],
];

/** A comma-separated fault list; `all` = every fault, `none` = no fault. */
export function parseFaultList(raw: string, what: string): FaultKind[] {
  const names = raw
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  if (names.includes("all")) return [...FAULT_KINDS];
  if (names.includes("none")) return [];
  for (const n of names)
    if (!(FAULT_KINDS as readonly string[]).includes(n))
      throw new Error(`${what}: unknown fault "${n}"; known: ${FAULT_KINDS.join(", ")}, all, none`);
  return FAULT_KINDS.filter((k) => names.includes(k));
}

export function chaosOptions(argv: string[], env: NodeJS.ProcessEnv): ChaosOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      requests: { type: "string" },
      faults: { type: "string" },
      skip: { type: "string" },
      each: { type: "boolean" },
      fast: { type: "boolean" },
      keep: { type: "boolean" },
      quiet: { type: "boolean" },
      "results-file": { type: "string" },
    },
    strict: true,
  });
  const fast = values.fast === true || env.CHAOS_FAST === "1";
  const o: ChaosOptions = { ...DEFAULTS, ...(fast ? FAST : {}), resultsFile: undefined };
  for (const [key, name, min] of NUMERIC) {
    const raw = env[name];
    if (raw === undefined || raw === "") continue;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min)
      throw new Error(`${name} must be a whole number ≥ ${min}, got ${JSON.stringify(raw)}`);
    (o as unknown as Record<string, number>)[key] = n;
  }
  if (values.requests !== undefined) {
    const n = Number(values.requests);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--requests must be a whole number ≥ 1`);
    o.requests = n;
  }
  const faults = values.faults ?? env.CHAOS_FAULTS;
  if (faults) o.faults = parseFaultList(faults, "CHAOS_FAULTS/--faults");
  const skip = values.skip ?? env.CHAOS_SKIP;
  if (skip) {
    const skipped = new Set(parseFaultList(skip, "CHAOS_SKIP/--skip"));
    o.faults = o.faults.filter((f) => !skipped.has(f));
  }
  o.each = values.each === true || env.CHAOS_EACH === "1";
  o.keep = values.keep === true || env.CHAOS_KEEP === "1";
  o.quiet = values.quiet === true || env.CHAOS_QUIET === "1";
  if (env.CHAOS_RESUBMIT === "0") o.resubmit = false;
  o.resultsFile = values["results-file"] ?? env.CHAOS_RESULTS_FILE;
  return o;
}
