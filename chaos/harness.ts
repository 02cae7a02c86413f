/**
 * One chaos run: the whole system as separate processes on a redis-server of its own, a fixed
 * number of requests, the selected faults injected one after another while requests flow, then
 * a settle phase, an optional re-submission by the "caller", and the observations judged by
 * evaluate(). Nothing here asserts; the summary says what held.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { PartnerCentralEmulator } from "../src/emulator/index.js";
import { createProducer } from "../src/index.js";
import { OUTCOMES_QUEUE, PREFIX, readRedis, readRequestJobs, REQUESTS_QUEUE } from "./end-state.js";
import { evaluate, type Ack, type AofLoss, type Delivery, type InjectedJob, type Observations } from "./evaluate.js";
import { jobsCreatedOnlyIn } from "./aof.js";
import { FAULTS, type FaultContext } from "./faults.js";
import type { ChaosOptions, FaultKind } from "./options.js";
import { spawnChild, type Child } from "./processes.js";
import { ChaosRedis } from "./redis-server.js";

const HERE = dirname(fileURLToPath(import.meta.url));
/** dist/ root when running compiled (dist/chaos/harness.js), else the repo's dist/. */
const DIST = HERE.split(/[\\/]/).at(-2) === "dist" ? resolve(HERE, "..") : resolve(HERE, "..", "dist");
const CLI = join(DIST, "src", "cli", "main.js");
const PRODUCER = join(DIST, "chaos", "producer-process.js");
const CONSUMER = join(DIST, "chaos", "consumer-process.js");

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface FaultEvent {
  kind: FaultKind;
  /** Seconds since the run started. */
  atS: number;
  durationS: number;
  count: number;
  detail?: Record<string, unknown>;
  error?: string;
}

export interface RunSummary {
  label: string;
  faultsSelected: FaultKind[];
  durationS: number;
  settle: { reason: "complete" | "only-vanished-requests-left" | "stalled" | "timeout"; seconds: number };
  faultsInjected: Partial<Record<FaultKind, number>>;
  faultLog: FaultEvent[];
  figures: ReturnType<typeof evaluate>["figures"];
  invariants: ReturnType<typeof evaluate>["invariants"];
  pass: boolean;
  logs?: string;
}

export async function runChaos(
  o: ChaosOptions,
  faults: FaultKind[],
  label: string,
  progress: (line: string) => void,
): Promise<RunSummary> {
  const started = Date.now();
  const since = () => Math.round((Date.now() - started) / 100) / 10;
  const say = (line: string) => progress(`[${label} ${since().toFixed(1)}s] ${line}`);
  const dir = await mkdtemp(join(tmpdir(), "pci-chaos-"));
  const children: Child[] = [];
  let redis: ChaosRedis | undefined;
  let emulator: PartnerCentralEmulator | undefined;
  let admin: Redis | undefined;
  let requestsQueue: Queue | undefined;
  let failed = true;
  try {
    redis = await ChaosRedis.start(dir, "everysec");
    const redisUrl = redis.url;
    admin = new Redis(redisUrl, { maxRetriesPerRequest: null });
    admin.on("error", () => {});
    requestsQueue = new Queue(REQUESTS_QUEUE, { connection: admin, prefix: PREFIX });
    requestsQueue.on("error", () => {});
    emulator = await PartnerCentralEmulator.start({ latencyMs: o.latencyMs });
    // Every invitation a producer was given (faults may add producers with their own).
    const seeded = emulator.seedInvitations(o.requests);
    say(
      `redis-server :${redis.port} (AOF everysec), emulator ${emulator.url}, ` +
        `${o.requests} invitations, faults: ${faults.join(", ") || "none"}`,
    );

    const baseEnv: NodeJS.ProcessEnv = {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "/tmp",
      REDIS_URL: redisUrl,
      QUEUE_PREFIX: PREFIX,
      LOG_LEVEL: "warn",
      LOCK_DURATION_MS: String(o.lockDurationMs),
      STALLED_INTERVAL_MS: String(o.stalledIntervalMs),
    };
    const workerEnv = {
      ...baseEnv,
      PARTNERCENTRAL_ENDPOINT: emulator.url,
      AWS_ACCESS_KEY_ID: "AKIDCHAOS",
      AWS_SECRET_ACCESS_KEY: "chaos-secret-not-real",
      AWS_CONFIG_FILE: "/dev/null",
      AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
      WORKER_CONCURRENCY: String(o.workerConcurrency),
      RATE_LIMIT_RPS: "100000",
      RATE_LIMIT_BURST: "100000",
      RETRY_BUDGET_MIN_PER_MINUTE: "100000",
      MAX_STALLED_COUNT: String(o.maxStalledCount),
      AWS_REQUEST_TIMEOUT_MS: "5000",
      SHUTDOWN_GRACE_MS: "5000",
      // A job BullMQ gives up on (MAX_STALLED_COUNT) whose invitation still reads PENDING is the
      // sweeper's, after its grace (a lost run's call may still land): sooner than the defaults'
      // 60 s + 60 s, so the settle phase sees it end; the grace outlasts a call (5 s) and a lock.
      SWEEP_INTERVAL_MS: "2000",
      SWEEP_GRACE_MS: String(o.lockDurationMs + 5000 + 1000),
    };
    let workerSeq = 0;
    const workers: Child[] = [];
    const startWorker = () => {
      const name = `worker-${++workerSeq}`;
      const w = spawnChild(name, [CLI, "worker"], workerEnv, join(dir, `${name}.log`));
      workers.push(w);
      children.push(w);
      return w;
    };
    for (let i = 0; i < o.workers; i++) startWorker();

    // Every line of every consumer process, across restarts.
    const deliveries: Delivery[] = [];
    const thrown: string[] = [];
    const parkedReported: string[] = [];
    let consumerSeq = 0;
    let consumer!: Child;
    const startConsumer = () => {
      const name = `consumer-${++consumerSeq}`;
      const c = spawnChild(name, [CONSUMER], baseEnv, join(dir, `${name}.log`), true);
      c.onLine((l) => {
        if (typeof l.d === "string") {
          deliveries.push({
            requestId: l.d,
            eventId: String(l.e),
            type: String(l.t),
            completedAt: String(l.c),
            identifier: (l.i as string | null) ?? null,
            at: Number(l.at),
          });
        } else if (typeof l.thrown === "string") thrown.push(l.thrown);
        else if (typeof l.parked === "string") parkedReported.push(l.parked);
      });
      children.push(c);
      consumer = c;
      return c;
    };
    startConsumer();

    // Producers: each gets a slice of the requests in a file, released step by step.
    const acks: Ack[] = [];
    const producers: Child[] = [];
    const slices: number[] = [];
    const startProducer = async (requests: Array<{ catalog: string; identifier: string }>): Promise<Child> => {
      const p = producers.length;
      const file = join(dir, `requests-${p}.ndjson`);
      await writeFile(file, `${requests.map((r) => JSON.stringify(r)).join("\n")}\n`);
      const child = spawnChild(
        `producer-${p}`,
        [PRODUCER],
        {
          ...baseEnv,
          CHAOS_REQUESTS_FILE: file,
          CHAOS_BATCH: String(o.batch),
          JOB_ATTEMPTS: String(o.jobAttempts),
          BACKOFF_DELAY_MS: String(o.backoffDelayMs),
        },
        join(dir, `producer-${p}.log`),
        true,
      );
      child.onLine((l) => {
        if (typeof l.ack === "string") acks.push({ jobId: l.ack, identifier: String(l.identifier), at: Number(l.at) });
      });
      producers.push(child);
      children.push(child);
      slices.push(requests.length);
      return child;
    };
    for (let p = 0; p < o.producers; p++) {
      await startProducer(
        seeded.filter((_, i) => i % o.producers === p).map((s) => ({ catalog: s.catalog, identifier: s.identifier })),
      );
    }
    const release = (fraction: number) => {
      for (const [i, p] of producers.entries()) p.send({ release: Math.ceil(slices[i]! * Math.min(1, fraction)) });
    };

    const injectedJobs: InjectedJob[] = [];
    const hostCrashes: FaultContext["hostCrashes"] = [];
    const ctx: FaultContext = {
      o,
      redis,
      admin,
      requestsQueue,
      prefix: PREFIX,
      emulator,
      workers: () => workers,
      startWorker,
      async startLateProducer(n) {
        const more = emulator!.seedInvitations(n);
        seeded.push(...more);
        const child = await startProducer(more.map((s) => ({ catalog: s.catalog, identifier: s.identifier })));
        child.send({ release: n });
        return child;
      },
      consumer: () => consumer,
      async restartConsumer() {
        return startConsumer();
      },
      injectedJobs,
      hostCrashes,
      progress: say,
    };

    // Requests are released to the producers at a steady pace over the whole fault schedule, so
    // every fault hits a system with requests arriving and in flight.
    const steps: FaultKind[] = Array.from({ length: o.rounds }, () => faults).flat();
    const faultLog: FaultEvent[] = [];
    const scheduleMs = 1000 + steps.reduce((sum, kind) => sum + 300 + o.gapMs + estimateMs(kind, o), 0);
    const releaseFrom = Date.now();
    release(0.05);
    const releaser = setInterval(() => release(0.05 + (Date.now() - releaseFrom) / scheduleMs), 100);
    try {
      // Faults hit a running system: wait for the first outcome to come through (bounded).
      const warm = Date.now() + 30_000;
      while (deliveries.length === 0 && Date.now() < warm) await sleep(100);
      for (const [i, kind] of steps.entries()) {
        await sleep(300);
        const at = Date.now();
        say(`fault ${i + 1}/${steps.length}: ${kind} (acknowledged ${acks.length}, delivered ${deliveries.length})`);
        try {
          const r = await FAULTS[kind](ctx);
          faultLog.push({
            kind,
            atS: Math.round((at - started) / 100) / 10,
            durationS: Math.round((Date.now() - at) / 100) / 10,
            count: r.count,
            ...(r.detail ? { detail: r.detail } : {}),
          });
        } catch (err) {
          faultLog.push({
            kind,
            atS: Math.round((at - started) / 100) / 10,
            durationS: Math.round((Date.now() - at) / 100) / 10,
            count: 0,
            error: (err as Error).message,
          });
          say(`fault ${kind} could not be injected: ${(err as Error).message}`);
        }
        await sleep(o.gapMs);
      }
    } finally {
      clearInterval(releaser);
    }
    release(1);

    // Settle: until every acknowledged request and injected job has a delivered outcome, or
    // nothing moves for stallTimeoutMs, or settleTimeoutMs passed.
    const wanted = () => [...new Set([...acks.map((a) => a.jobId), ...injectedJobs.map((j) => j.id)])];
    const settle = await waitForDeliveries(
      () => wanted(),
      () => producers.every((p) => !p.alive()),
      deliveries,
      acks,
      o,
      say,
      admin,
    );

    // The caller's recovery: re-submit (same idempotency key) every acknowledged request without outcome.
    let resubmission: Observations["resubmission"] = null;
    if (o.resubmit) {
      const delivered = new Set(deliveries.map((d) => d.requestId));
      const missing = [...new Map(acks.filter((a) => !delivered.has(a.jobId)).map((a) => [a.identifier, a])).values()];
      if (missing.length > 0) {
        say(`re-submitting ${missing.length} acknowledged request(s) without outcome, as their caller would`);
        const producer = createProducer({
          redis: admin,
          prefix: PREFIX,
          retry: { attempts: o.jobAttempts, backoffDelayMs: o.backoffDelayMs, backoffJitter: 0.5 },
        });
        const results = await producer.enqueueMany(missing.map((a) => ({ catalog: "AWS", identifier: a.identifier })));
        await producer.close();
        const jobIds = results.map((r) => r.jobId);
        await waitForDeliveries(
          () => jobIds,
          () => true,
          deliveries,
          acks,
          {
            ...o,
            settleTimeoutMs: Math.min(o.settleTimeoutMs, 60_000),
            stallTimeoutMs: Math.min(o.stallTimeoutMs, 20_000),
          },
          say,
          admin,
        );
        const deliveredNow = new Set(deliveries.map((d) => d.identifier));
        resubmission = {
          resubmitted: missing.length,
          recovered: missing.filter((a) => deliveredNow.has(a.identifier)).length,
          newRequests: results.filter((r, i) => r.jobId !== missing[i]!.jobId).length,
        };
      } else resubmission = { resubmitted: 0, recovered: 0, newRequests: 0 };
    }

    say("stopping processes");
    await Promise.all(producers.map((p) => p.stop(2000)));
    await consumer.stop(5000);
    await Promise.all(workers.map((w) => w.stop(8000)));

    const snapshot = await readRedis(admin);
    const deliveredIds = new Set(deliveries.map((d) => d.requestId));
    const requestsWithoutOutcome = await readRequestJobs(
      admin,
      [...new Set(acks.map((a) => a.jobId))].filter((id) => !deliveredIds.has(id)),
      acks,
    );
    const acceptCalls = emulator.calls({ operation: "AcceptConnectionInvitation" }).map((c) => ({
      identifier: c.identifier ?? "",
      clientToken: c.clientToken ?? null,
      status: c.status,
      replayed: c.replayed === true,
    }));
    const invitationStatus = new Map(
      seeded.map((s) => [s.identifier, emulator!.getInvitation(s.catalog, s.identifier)?.Status ?? "MISSING"]),
    );
    // What each host crash's cut of the AOF dropped (the dropped bytes kept with the logs).
    const requestsPrefix = `${PREFIX}:${REQUESTS_QUEUE}:`;
    const outcomesPrefix = `${PREFIX}:${OUTCOMES_QUEUE}:`;
    const aofLosses: AofLoss[] = [];
    for (const [i, { at, cut }] of hostCrashes.entries()) {
      if (!cut) {
        aofLosses.push({ at, droppedBytes: 0, requestJobs: [], outcomes: [] });
        continue;
      }
      aofLosses.push({
        at,
        droppedBytes: cut.droppedBytes.length,
        requestJobs: jobsCreatedOnlyIn(cut.dropped, cut.kept, requestsPrefix),
        outcomes: jobsCreatedOnlyIn(cut.dropped, cut.kept, outcomesPrefix),
      });
      await writeFile(join(dir, `aof-dropped-${i + 1}.aof`), cut.droppedBytes);
    }
    const result = evaluate({
      submitted: seeded.length,
      acks,
      deliveries,
      thrown: thrown.length,
      parkedReported,
      ...snapshot,
      acceptCalls,
      invitationStatus,
      injectedJobs,
      aofLosses,
      resubmission,
      requestsWithoutOutcome,
    });
    const faultsInjected: Partial<Record<FaultKind, number>> = {};
    for (const f of faultLog) faultsInjected[f.kind] = (faultsInjected[f.kind] ?? 0) + f.count;
    failed = !result.pass;
    // What was acknowledged and delivered, for whoever traces a request through the kept dir (with
    // the AOF and each process's log).
    if (o.keep || failed) {
      const ndjson = (rows: unknown[]) => rows.map((r) => `${JSON.stringify(r)}\n`).join("");
      await writeFile(join(dir, "acks.ndjson"), ndjson(acks));
      await writeFile(join(dir, "deliveries.ndjson"), ndjson(deliveries));
    }
    say(
      `${result.pass ? "PASS" : "FAIL"}: ${
        Object.entries(result.invariants)
          .filter(([, v]) => !v.pass)
          .map(([k, v]) => `${k}=${v.value}`)
          .join(", ") || "every invariant held"
      }`,
    );
    return {
      label,
      faultsSelected: faults,
      durationS: Math.round((Date.now() - started) / 100) / 10,
      settle,
      faultsInjected,
      faultLog,
      ...result,
      ...(o.keep || failed ? { logs: dir } : {}),
    };
  } finally {
    for (const c of children) if (c.alive()) c.proc.kill("SIGKILL");
    await Promise.all(children.map((c) => c.exited));
    await requestsQueue?.close().catch(() => undefined);
    admin?.disconnect();
    await emulator?.close();
    await redis?.destroy();
    // Logs of a failed run are kept for whoever investigates; the summary names the dir.
    if (!o.keep && !failed) await rm(dir, { recursive: true, force: true });
  }
}

/** Roughly how long a fault takes to inject, for pacing the requests over the schedule. */
function estimateMs(kind: FaultKind, o: ChaosOptions): number {
  switch (kind) {
    case "api-5xx-before":
    case "consumer-throw":
      return o.faultWindowMs;
    case "redis-freeze":
      return o.freezeMs;
    case "redis-full":
    case "redis-restart-full":
      return o.redisFullMs;
    case "redis-term-always":
    case "redis-term-everysec":
    case "redis-kill-always":
    case "redis-kill-everysec":
      return 800 + o.redisDownMs;
    case "consumer-kill":
    case "api-5xx-after":
    case "api-connection-reset":
      return 1000;
    default:
      return 200;
  }
}

async function waitForDeliveries(
  wanted: () => string[],
  producersDone: () => boolean,
  deliveries: Delivery[],
  acks: Ack[],
  o: ChaosOptions,
  say: (line: string) => void,
  redis: Redis,
): Promise<{ reason: "complete" | "only-vanished-requests-left" | "stalled" | "timeout"; seconds: number }> {
  const start = Date.now();
  let lastChange = Date.now();
  let last = -1;
  let lastSaid = 0;
  let lastLook = 0;
  for (;;) {
    const delivered = new Set(deliveries.map((d) => d.requestId));
    const want = wanted();
    const missingIds = want.filter((id) => !delivered.has(id));
    const missing = missingIds.length;
    const moved = deliveries.length + acks.length;
    if (moved !== last) {
      last = moved;
      lastChange = Date.now();
    }
    const seconds = Math.round((Date.now() - start) / 100) / 10;
    if (producersDone() && missing === 0) return { reason: "complete", seconds };
    // A request whose job hash and outcome are both gone (lost with Redis's last writes) will
    // never be delivered: once only such requests are left there is nothing to wait for.
    if (producersDone() && missing > 0 && missing <= 2000 && Date.now() - lastLook > 2000) {
      lastLook = Date.now();
      const keys = missingIds.flatMap((id) => [
        `${PREFIX}:${REQUESTS_QUEUE}:${id}`,
        `${PREFIX}:${OUTCOMES_QUEUE}:${id}`,
      ]);
      const present = await redis.exists(...keys);
      if (present === 0) {
        say(
          `settle: the ${missing} request(s) still without outcome have neither a job nor an outcome in Redis any more`,
        );
        return { reason: "only-vanished-requests-left", seconds };
      }
    }
    if (Date.now() - lastChange > o.stallTimeoutMs) {
      say(
        `settle: nothing delivered for ${o.stallTimeoutMs / 1000} s; ` +
          `${missing} of ${want.length} still without a delivered outcome`,
      );
      return { reason: "stalled", seconds };
    }
    if (Date.now() - start > o.settleTimeoutMs) return { reason: "timeout", seconds };
    if (Date.now() - lastSaid > 5000) {
      lastSaid = Date.now();
      say(`settle: ${want.length - missing}/${want.length} delivered`);
    }
    await sleep(250);
  }
}
