import { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { outcomeEventSchema, type OutcomeEvent } from "../../src/contracts/outcome.js";
import { looksLikeNotice } from "../../src/contracts/notice.js";
import { waitFor } from "./wait.js";
import { startPipeline } from "./pipeline.js";

/** Every state an outcome job can be in: consumed ones are kept as completed. */
const OUTCOME_STATES = ["waiting", "completed", "active", "delayed", "failed", "prioritized"] as const;

async function totalJobs(queue: Queue): Promise<number> {
  const counts = await queue.getJobCounts(...OUTCOME_STATES);
  return Object.values(counts).reduce((a, b) => a + b, 0);
}

/**
 * Reads (without consuming) every outcome event on the outcomes queue, validated against the
 * schema, until `count` exist. Asserting on the queue itself proves what consumers will see.
 */
export async function waitForOutcomes(
  redis: Redis,
  prefix: string,
  count: number,
  opts: { queueName?: string; timeoutMs?: number } = {},
): Promise<OutcomeEvent[]> {
  const queue = new Queue(opts.queueName ?? "invitation-outcomes", { connection: redis, prefix });
  try {
    return await waitFor(
      async () => {
        if ((await totalJobs(queue)) < count) return undefined;
        // Notices about held invitations share the queue (contracts/notice.ts): not outcomes.
        const jobs = (await queue.getJobs([...OUTCOME_STATES], 0, -1)).filter((j) => !looksLikeNotice(j.data));
        if (jobs.length < count) return undefined;
        return jobs.map((j) => outcomeEventSchema.parse(j.data));
      },
      opts.timeoutMs ?? 20_000,
      `${count} outcome(s)`,
    );
  } finally {
    await queue.close();
  }
}

/** Number of outcome jobs on the queue, in any state. */
export async function countOutcomes(redis: Redis, prefix: string, queueName = "invitation-outcomes"): Promise<number> {
  const queue = new Queue(queueName, { connection: redis, prefix });
  try {
    return await totalJobs(queue);
  } finally {
    await queue.close();
  }
}

/**
 * A pipeline (startPipeline) whose worker has accepted `n` fresh invitations: their outcome
 * events wait on the outcomes queue, unconsumed. The caller closes `p`.
 */
export async function pipelineWithOutcomes(label: string, n: number) {
  const p = await startPipeline({ label });
  try {
    const invs = p.emulator.seedInvitations(n);
    await p.producer.enqueueMany(invs.map((i) => ({ catalog: i.catalog, identifier: i.identifier })));
    await p.startWorker();
    const events = await waitForOutcomes(p.redis, p.prefix, n);
    return { p, invs, events };
  } catch (err) {
    await p.close();
    throw err;
  }
}
