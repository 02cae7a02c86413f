import { randomUUID } from "node:crypto";
import { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { createRedis } from "../queues/connection.js";
import { DEFAULT_QUEUE_LOCATION } from "../queues/queue-names.js";
import { deriveClientToken, requestJobId } from "../queues/identity.js";
import { JOB_DATA_VERSION, type AcceptJobData } from "../schemas/job.js";
import type { AcceptRequest } from "../schemas/request.js";
import { BatchValidationError, RequestValidationError } from "../errors/index.js";
import { validateRequest } from "./validate-request.js";
import { DEFAULT_RETRY_POLICY, requestJobOptions, type RetryPolicy } from "./job-options.js";

export interface ProducerOptions {
  /** An ioredis instance (not closed by the producer) or a URL. @defaultValue redis://127.0.0.1:6379 */
  redis?: Redis | string;
  /** @defaultValue "{pci}" */
  prefix?: string;
  /** @defaultValue "accept-invitation" */
  queueName?: string;
  /** @defaultValue DEFAULT_RETRY_POLICY */
  retry?: Partial<RetryPolicy>;
}

export interface EnqueueResult {
  /** BullMQ job id, = requestId of the outcome event. */
  jobId: string;
  /** True when a job for this (catalog, identifier) already existed; nothing new was added. */
  duplicate: boolean;
  /** The ClientToken AWS will see for this request (the existing job's, for a duplicate). */
  clientToken: string;
  correlationId: string;
}

export interface Producer {
  enqueue(request: unknown): Promise<EnqueueResult>;
  /** Validates every request first; one invalid request rejects the batch. One addBulk call. */
  enqueueMany(requests: readonly unknown[]): Promise<EnqueueResult[]>;
  readonly queue: Queue;
  close(): Promise<void>;
}

export function createProducer(options: ProducerOptions = {}): Producer {
  const ownsConnection = typeof options.redis !== "object";
  const connection = typeof options.redis === "object" ? options.redis : createRedis(options.redis ?? "redis://127.0.0.1:6379");
  const queue = new Queue(options.queueName ?? DEFAULT_QUEUE_LOCATION.requestsQueue, {
    connection,
    prefix: options.prefix ?? DEFAULT_QUEUE_LOCATION.prefix,
    defaultJobOptions: requestJobOptions({ ...DEFAULT_RETRY_POLICY, ...options.retry }),
  });

  async function enqueueMany(requests: readonly unknown[]): Promise<EnqueueResult[]> {
    const valid: AcceptRequest[] = [];
    const invalid: Array<{ index: number; issues: RequestValidationError["issues"] }> = [];
    requests.forEach((input, index) => {
      const r = validateRequest(input);
      if (r.ok) valid.push(r.request);
      else invalid.push({ index, issues: r.issues });
    });
    if (invalid.length > 0) throw new BatchValidationError(invalid);
    if (valid.length === 0) return [];

    const enqueuedAt = new Date().toISOString();
    const jobs = valid.map((request) => {
      const clientToken = request.clientToken ?? deriveClientToken(request.catalog, request.identifier);
      const data: AcceptJobData = {
        v: JOB_DATA_VERSION,
        request: { ...request, clientToken, correlationId: request.correlationId ?? randomUUID() },
        clientToken,
        enqueuedAt,
        enqueueId: randomUUID(),
        throttleRequeues: 0,
      };
      return { name: "accept", data, opts: { jobId: requestJobId(request.catalog, request.identifier) } };
    });
    await queue.addBulk(jobs);
    return resolveDuplicates(jobs.map((j) => ({ jobId: j.opts.jobId, data: j.data })));
  }

  /**
   * BullMQ's add returns the same id whether it created the job or found it. Reading the stored
   * data back (one pipelined round trip) tells them apart exactly: our nonce means our add created
   * it. A job already gone (processed and removed) was created by this add.
   */
  async function resolveDuplicates(added: Array<{ jobId: string; data: AcceptJobData }>): Promise<EnqueueResult[]> {
    const pipeline = connection.pipeline();
    for (const a of added) pipeline.hget(queue.toKey(a.jobId), "data");
    const replies = (await pipeline.exec()) ?? [];
    return added.map((a, i) => {
      const raw = replies[i]?.[1];
      const stored = typeof raw === "string" ? safeJson(raw) : undefined;
      const duplicate = stored !== undefined && stored.enqueueId !== a.data.enqueueId;
      return {
        jobId: a.jobId,
        duplicate,
        clientToken: duplicate && typeof stored?.clientToken === "string" ? stored.clientToken : a.data.clientToken,
        correlationId:
          duplicate && typeof stored?.request?.correlationId === "string" ? stored.request.correlationId : a.data.request.correlationId,
      };
    });
  }

  return {
    queue,
    enqueueMany,
    async enqueue(request) {
      try {
        const [result] = await enqueueMany([request]);
        return result!;
      } catch (err) {
        if (err instanceof BatchValidationError) throw new RequestValidationError(err.invalid[0]!.issues);
        throw err;
      }
    },
    async close() {
      await queue.close();
      if (ownsConnection) connection.disconnect();
    },
  };
}

function safeJson(raw: string): { enqueueId?: unknown; clientToken?: unknown; request?: { correlationId?: unknown } } | undefined {
  try {
    return JSON.parse(raw);
  } catch {
    return undefined;
  }
}
