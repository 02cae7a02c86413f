/**
 * Load test of the HTTP API: `pc-invitations serve` (the built CLI, in a process of its own so it
 * does not share a core with the load generator) on 127.0.0.1, driven by autocannon for a bounded
 * time. Every request enqueues a fresh invitation (no duplicates). Loopback only; the queue prefix
 * is unique to the run and all its keys are deleted afterwards. Prints one JSON object.
 *
 *   npm run build && node dist/bench/http-load.js
 *   BENCH_HTTP_DURATION_S=10 BENCH_HTTP_CONNECTIONS=50 BENCH_HTTP_BATCH=0 (0 = POST /v1/acceptances,
 *   N = POST /v1/acceptances/batch with N requests each)
 *   BENCH_HTTP_CLI=<another build's dist/src/cli/main.js> serves with that build instead (an older
 *   commit, for a side-by-side comparison: bench/http-compare.ts)
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createServer, type AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";
import { Redis } from "ioredis";
import { deletePrefix } from "../src/store/redis/delete-prefix.js";

const REDIS_URL = process.env.REDIS_URL || "redis://127.0.0.1:6379";
const DURATION_S = bounded("BENCH_HTTP_DURATION_S", 10, 1, 60);
const CONNECTIONS = bounded("BENCH_HTTP_CONNECTIONS", 50, 1, 500);
const BATCH = bounded("BENCH_HTTP_BATCH", 0, 0, 500);
const TOKEN = randomBytes(24).toString("base64url");
const CLI = process.env.BENCH_HTTP_CLI || fileURLToPath(new URL("../src/cli/main.js", import.meta.url));

function bounded(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name];
  const n = raw ? Number(raw) : fallback;
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${name} must be an integer in ${min}..${max}`);
  return n;
}

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const { port } = srv.address() as AddressInfo;
  await new Promise((r) => srv.close(r));
  return port;
}

/** `pacinv-` + 5 random + 8 base-36 counter characters: never used before. */
const TAG = randomBytes(5)
  .toString("hex")
  .replace(/[^A-Za-z0-9]/g, "")
  .slice(0, 5)
  .toUpperCase();
let counter = 0;
const nextRequest = () => ({
  catalog: "Sandbox",
  identifier: `pacinv-${TAG}${(counter++).toString(36).padStart(8, "0")}`,
});

async function main(): Promise<void> {
  const prefix = `{pci-bench-http-${randomBytes(4).toString("hex")}}`;
  const port = await freePort();
  const server = spawn(process.execPath, [CLI, "serve"], {
    env: {
      PATH: process.env.PATH ?? "",
      REDIS_URL,
      QUEUE_PREFIX: prefix,
      HTTP_HOST: "127.0.0.1",
      HTTP_PORT: String(port),
      HTTP_AUTH_TOKENS: TOKEN,
      HTTP_DASHBOARD: "false",
      HTTP_MAX_BACKLOG: "100000000",
      HTTP_MAX_BATCH: String(Math.max(BATCH, 1)),
      LOG_LEVEL: "warn",
    },
    stdio: ["ignore", "ignore", "inherit"],
  });
  const serverExited = new Promise<void>((r) => server.once("exit", () => r()));
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const base = `http://127.0.0.1:${port}`;
  try {
    await waitUntilUp(base);
    const path = BATCH > 0 ? "/v1/acceptances/batch" : "/v1/acceptances";
    const result = await autocannon({
      url: base,
      connections: CONNECTIONS,
      duration: DURATION_S,
      requests: [
        {
          method: "POST",
          path,
          headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
          setupRequest: (req) => ({
            ...req,
            body: JSON.stringify(BATCH > 0 ? { requests: Array.from({ length: BATCH }, nextRequest) } : nextRequest()),
          }),
        },
      ],
    });
    const jobs = await redis.llen(`${prefix}:accept-invitation:wait`);
    process.stdout.write(
      `${JSON.stringify({
        bench: "http-load",
        endpoint: `POST ${path}`,
        batch: BATCH,
        durationS: DURATION_S,
        connections: CONNECTIONS,
        requestsPerSec: result.requests.average,
        jobsPerSec: Math.round(result.requests.average * Math.max(BATCH, 1) * 10) / 10,
        latencyMs: {
          p50: result.latency.p50,
          p90: result.latency.p90,
          p99: result.latency.p99,
          max: result.latency.max,
        },
        requests: result.requests.total,
        non2xx: result.non2xx,
        errors: result.errors,
        timeouts: result.timeouts,
        jobsWaiting: jobs,
        node: process.version,
        cli: CLI,
      })}\n`,
    );
  } finally {
    server.kill("SIGTERM");
    await serverExited;
    await deletePrefix(redis, prefix);
    redis.disconnect();
  }
}

async function waitUntilUp(base: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      if ((await fetch(`${base}/readyz`)).ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error("the server did not become ready in 15 s");
    await new Promise((r) => setTimeout(r, 100));
  }
}

main().catch((err) => {
  process.stderr.write(`http-load: ${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});
