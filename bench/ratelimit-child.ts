/**
 * The comparison side of bench/ratelimit.ts: a process running a plain BullMQ Worker with
 * BullMQ's own limiter (`limiter: { max, duration: 1000 }`, which pc-invitations does not use),
 * each job one AcceptConnectionInvitation through the real SDK. Forked by the bench with IPC:
 * it receives a "run" message, answers "ready", starts at the "go" time, stops after the
 * duration and answers "done".
 */
import { Worker } from "bullmq";
import { Redis } from "ioredis";
import { createSdkInvitationApi } from "../src/aws/sdk-invitation-api.js";
import { BENCH_CREDENTIALS, sleep } from "./common.js";
import { accept } from "../src/operations/accept.js";

export interface BullmqRunMessage {
  type: "run";
  redisUrl: string;
  prefix: string;
  queueName: string;
  endpoint: string;
  catalog: string;
  concurrency: number;
  durationMs: number;
  max: number;
}
export interface BullmqChildStats {
  pid: number;
  succeeded: number;
  otherErrors: number;
}

async function child(): Promise<void> {
  const send = (m: unknown) => process.send!(m);
  const run = await new Promise<BullmqRunMessage>((r) => process.once("message", (m) => r(m as BullmqRunMessage)));
  const redis = new Redis(run.redisUrl, { maxRetriesPerRequest: null });
  const api = createSdkInvitationApi({
    endpoint: run.endpoint,
    credentials: BENCH_CREDENTIALS,
    requestTimeoutMs: 10_000,
  });
  const stats: BullmqChildStats = { pid: process.pid, succeeded: 0, otherErrors: 0 };
  const worker = new Worker(
    run.queueName,
    async (job) => {
      const identifier = (job.data as { identifier: string }).identifier;
      try {
        await accept.call(api, { catalog: run.catalog, identifier, clientToken: `bench-${identifier}`, request: {} });
        stats.succeeded++;
      } catch {
        stats.otherErrors++;
      }
    },
    {
      connection: redis,
      prefix: run.prefix,
      concurrency: run.concurrency,
      limiter: { max: run.max, duration: 1000 },
      autorun: false,
    },
  );
  await worker.waitUntilReady();
  send({ type: "ready" });
  const go = await new Promise<{ startAt: number }>((r) => process.once("message", (m) => r(m as { startAt: number })));
  await sleep(Math.max(0, go.startAt - Date.now()));
  const running = worker.run();
  await sleep(Math.max(0, go.startAt + run.durationMs - Date.now()));
  await worker.close();
  await running;
  api.destroy();
  redis.disconnect();
  send({ type: "done", stats });
}

child().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench child failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
