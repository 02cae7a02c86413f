/**
 * The least a BullMQ + AWS SDK pipeline can do for one request, as a baseline for bench/cost.ts:
 * a Worker (concurrency C) takes a job, calls AcceptConnectionInvitation with the job's token, adds
 * an outcome job and returns. No idempotency record, no shared rate limit, no fencing, no
 * reconciliation, no logging. Run as a child process so its CPU can be measured on its own.
 *
 * env: REDIS_URL, PREFIX, ENDPOINT, CONCURRENCY, RETENTION_SECONDS. Prints "ready" on stdout when
 * its worker is connected; SIGTERM closes it.
 */
import { Queue, Worker } from "bullmq";
import { Redis } from "ioredis";
import { createSdkInvitationApi } from "../src/aws/sdk-invitation-api.js";
import { BENCH_CREDENTIALS } from "./common.js";
import { accept } from "../src/operations/accept.js";

const env = (k: string) => {
  const v = process.env[k];
  if (!v) throw new Error(`${k} is required`);
  return v;
};
const connection = new Redis(env("REDIS_URL"), { maxRetriesPerRequest: null });
const prefix = env("PREFIX");
const retention = Number(process.env.RETENTION_SECONDS ?? 86_400);
const api = createSdkInvitationApi({ endpoint: env("ENDPOINT"), credentials: BENCH_CREDENTIALS });
const outcomes = new Queue("outcomes", {
  connection,
  prefix,
  defaultJobOptions: { removeOnComplete: { age: retention } },
});
const worker = new Worker(
  "requests",
  async (job) => {
    const { catalog, identifier, clientToken } = job.data as {
      catalog: string;
      identifier: string;
      clientToken: string;
    };
    const result = await accept.call(api, { catalog, identifier, clientToken, request: {} });
    await outcomes.add(
      "accepted",
      { requestId: job.id, type: "accepted", connection: result.connection, completedAt: new Date().toISOString() },
      { jobId: job.id! },
    );
    return { outcome: "accepted" };
  },
  { connection: connection.duplicate(), prefix, concurrency: Number(process.env.CONCURRENCY ?? 16) },
);
worker.on("error", () => {});
await worker.waitUntilReady();
process.stdout.write("ready\n");
process.once("SIGTERM", () => {
  void Promise.all([worker.close(), outcomes.close()]).then(() => {
    api.destroy();
    connection.disconnect();
    process.exit(0);
  });
});
