import { Queue } from "bullmq";
import type { Redis } from "ioredis";
import type { OutcomeEvent } from "../schemas/outcome.js";
import type { OutcomeStore } from "./outcome-store.js";

/**
 * Outcome jobs are retried by consumers until their handler succeeds (see consumeOutcomes);
 * this many attempts is "practically forever", and a job that still fails stays in the failed
 * set, never deleted.
 */
export const OUTCOME_ATTEMPTS = 1_000_000;

/**
 * Publishes outcome events as jobs of the outcomes queue with job id = requestId. BullMQ ignores
 * an add whose id exists, so a redelivered request cannot publish a second event.
 */
export function createOutcomeQueue(opts: {
  connection: Redis;
  prefix: string;
  queueName: string;
  retentionSeconds: number;
}): OutcomeStore & { queue: Queue; close(): Promise<void> } {
  const queue = new Queue(opts.queueName, {
    connection: opts.connection,
    prefix: opts.prefix,
    defaultJobOptions: {
      attempts: OUTCOME_ATTEMPTS,
      backoff: { type: "outcome" },
      removeOnComplete: { age: opts.retentionSeconds },
      removeOnFail: false,
    },
  });
  return {
    queue,
    async exists(requestId) {
      return (await opts.connection.exists(queue.toKey(requestId))) === 1;
    },
    async publish(event) {
      await queue.add(event.type, event, { jobId: event.requestId });
    },
    close: () => queue.close(),
  };
}
