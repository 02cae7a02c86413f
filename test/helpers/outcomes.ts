import { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { outcomeEventSchema, type OutcomeEvent } from "../../src/schemas/outcome.js";
import { waitFor } from "./wait.js";

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
        const jobs = await queue.getJobs([...OUTCOME_STATES], 0, -1);
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
