/**
 * Shared helpers of the benches: env knobs, statistics, Redis key hygiene, fresh identifiers.
 * Benches print JSON only; nothing here asserts on time.
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { performance } from "node:perf_hooks";
import { Redis } from "ioredis";

export const REDIS_URL =
  process.env.REDIS_URL && process.env.REDIS_URL !== "" ? process.env.REDIS_URL : "redis://127.0.0.1:6379";

/** Static credentials for the emulator (it does not check them). */
export const BENCH_CREDENTIALS = { accessKeyId: "AKIDBENCH", secretAccessKey: "bench-secret-not-real" };

/** Integer env knob with a default and a lower bound. */
export function envInt(name: string, fallback: number, min = 0): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min)
    throw new Error(`${name} must be an integer ≥ ${min}, got ${JSON.stringify(raw)}`);
  return n;
}

export function envString(name: string, fallback: string): string {
  const raw = process.env[name];
  return raw === undefined || raw === "" ? fallback : raw;
}

/** A hash-tagged prefix unique to one bench process, e.g. `{pci-bench-1a2b3c4d}`. */
export function uniquePrefix(label = "bench"): string {
  return `{pci-${label}-${randomBytes(4).toString("hex")}}`;
}

export function newRedis(url = REDIS_URL): Redis {
  return new Redis(url, { maxRetriesPerRequest: null });
}

export { deletePrefix } from "../src/store/redis/delete-prefix.js";

const ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const TAG = Array.from(randomBytes(5), (b) => ALNUM[b % ALNUM.length]).join("");
let counter = 0;

/**
 * Invitation ids never used before in this process (and, thanks to the random tag, in practice
 * never used by another run): `pacinv-` + 5 random + 8 base-36 counter characters.
 */
export function freshIdentifiers(n: number): string[] {
  const out: string[] = new Array(n);
  for (let i = 0; i < n; i++) out[i] = `pacinv-${TAG}${(counter++).toString(36).padStart(8, "0")}`;
  return out;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Nearest-rank percentile (p in 0..100) of an unsorted sample. */
export function percentile(values: ArrayLike<number>, p: number): number {
  const n = values.length;
  if (n === 0) return Number.NaN;
  const s = Float64Array.from(values).sort();
  const rank = Math.min(n, Math.max(1, Math.ceil((p / 100) * n)));
  return s[rank - 1]!;
}

export interface Percentiles {
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export function percentiles(values: ArrayLike<number>): Percentiles {
  return {
    p50: round(percentile(values, 50)),
    p95: round(percentile(values, 95)),
    p99: round(percentile(values, 99)),
    max: round(percentile(values, 100)),
  };
}

/** Element-wise median of per-run percentile records. */
export function medianPercentiles(runs: readonly Percentiles[]): Percentiles {
  return {
    p50: round(median(runs.map((r) => r.p50))),
    p95: round(median(runs.map((r) => r.p95))),
    p99: round(median(runs.map((r) => r.p99))),
    max: round(median(runs.map((r) => r.max))),
  };
}

export function round(x: number, digits = 2): number {
  if (!Number.isFinite(x)) return x;
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Rejects after `ms` with a message, so a stuck run fails the bench instead of hanging it. */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no result after ${ms} ms`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/** Progress on stderr (stdout carries only the JSON document). Silence with BENCH_QUIET=1. */
export function progress(line: string): void {
  if (process.env.BENCH_QUIET !== "1") process.stderr.write(`[bench] ${line}\n`);
}

/** Lets timers, sockets and GC settle between measured phases (untimed). */
export async function settle(ms = 150): Promise<void> {
  (globalThis as { gc?: () => void }).gc?.();
  await sleep(ms);
}

/** CPU and event-loop usage of a measured phase: this process, and the Redis server (INFO cpu). */
export interface CpuSample {
  /** Node process CPU (user+sys), ms. */
  nodeCpuMs: number;
  /** Redis server CPU (user+sys, main + children threads), ms; includes other clients of that Redis. */
  redisCpuMs: number;
  /** Event-loop utilisation 0..1 of this process's main thread. */
  elu: number;
  /** Busy fraction 0..1 of all CPUs of the machine (Linux /proc/stat; NaN elsewhere): ~1 = saturated. */
  machineBusy: number;
}

function procStat(): { busy: number; total: number } | undefined {
  try {
    const line = readFileSync("/proc/stat", "utf8").split("\n", 1)[0]!;
    const v = line.trim().split(/\s+/).slice(1).map(Number);
    const idle = (v[3] ?? 0) + (v[4] ?? 0);
    const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
    return { busy: total - idle, total };
  } catch {
    return undefined;
  }
}

async function redisCpuMs(redis: Redis): Promise<number> {
  const info = await redis.info("cpu");
  const get = (k: string) => Number(info.match(new RegExp(`^${k}:([0-9.]+)`, "m"))?.[1] ?? 0);
  return (get("used_cpu_user") + get("used_cpu_sys")) * 1000;
}

/** Starts a CPU sample; the returned function ends it. */
export async function startCpuSample(redis: Redis): Promise<() => Promise<CpuSample>> {
  const cpu0 = process.cpuUsage();
  const elu0 = performance.eventLoopUtilization();
  const r0 = await redisCpuMs(redis).catch(() => Number.NaN);
  const s0 = procStat();
  return async () => {
    const s1 = procStat();
    const cpu = process.cpuUsage(cpu0);
    const elu = performance.eventLoopUtilization(elu0);
    const r1 = await redisCpuMs(redis).catch(() => Number.NaN);
    const machineBusy = s0 && s1 && s1.total > s0.total ? (s1.busy - s0.busy) / (s1.total - s0.total) : Number.NaN;
    return {
      nodeCpuMs: round((cpu.user + cpu.system) / 1000),
      redisCpuMs: round(r1 - r0),
      elu: round(elu.utilization, 3),
      machineBusy: round(machineBusy, 3),
    };
  };
}

/** Which code was measured: HEAD and whether src/ had uncommitted changes (read-only git). */
export function sourceInfo(root: string): { commit: string; srcUncommittedFiles: number } | undefined {
  try {
    const git = (...args: string[]) =>
      execFileSync("git", ["-C", root, ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    const commit = git("rev-parse", "--short", "HEAD");
    const dirty = git("status", "--porcelain", "--", "src");
    return { commit, srcUncommittedFiles: dirty === "" ? 0 : dirty.split("\n").length };
  } catch {
    return undefined;
  }
}

/** Median, min and max of some runs' values, with the values in run order. */
export function spread(values: number[]): { median: number; min: number; max: number; runs: number[] } {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return {
    median: round(median, 2),
    min: round(sorted[0] ?? NaN, 2),
    max: round(sorted.at(-1) ?? NaN, 2),
    runs: values.map((v) => round(v, 2)),
  };
}

/** The repository's root, whether the bench runs from dist/bench or with a TS loader from bench/. */
export function repoRoot(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  return here.split(/[\\/]/).slice(-2, -1)[0] === "dist" ? resolve(here, "..", "..") : resolve(here, "..");
}

/** Writes a bench's JSON document to bench/results/`name` and prints it on stdout; returns the file's path. */
export async function writeResult(name: string, doc: unknown): Promise<string> {
  const json = JSON.stringify(doc, null, 2);
  const dir = join(repoRoot(), "bench", "results");
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, name), `${json}\n`);
  process.stdout.write(`${json}\n`);
  return join(dir, name);
}
