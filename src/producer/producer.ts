import { randomUUID } from "node:crypto";
import { Queue } from "bullmq";
import { createRedis, duplicateConnection, type RedisConnection } from "../queues/connection.js";
import { DEFAULT_QUEUE_LOCATION } from "../queues/queue-names.js";
import { deriveClientToken } from "../queues/identity.js";
import { JOB_DATA_VERSION, type AcceptJobData } from "../schemas/job.js";
import type { AcceptRequest } from "../schemas/request.js";
import { BatchValidationError, IdempotencyConflictError, RequestValidationError } from "../errors/index.js";
import { canonicalJson, fingerprint, fingerprintPayload } from "../idempotency/fingerprint.js";
import { defaultIdempotencyKey, idempotencyRecordKey, newRequestJobId } from "../idempotency/keys.js";
import { createMutex } from "../idempotency/mutex.js";
import { reserveAndEnqueue, type PreparedRequest, type ReserveResult } from "../idempotency/reserve.js";
import { defineRecordScripts } from "../idempotency/record-scripts.js";
import { validateRequest } from "./validate-request.js";
import { DEFAULT_RETRY_POLICY, requestJobOptions, type RetryPolicy } from "./job-options.js";

export interface ProducerOptions {
  /** An ioredis Redis or Cluster (not closed by the producer) or a URL. @defaultValue redis://127.0.0.1:6379 */
  redis?: RedisConnection | string;
  /** @defaultValue "{pci}" */
  prefix?: string;
  /** @defaultValue "accept-invitation" */
  queueName?: string;
  /** @defaultValue DEFAULT_RETRY_POLICY */
  retry?: Partial<RetryPolicy>;
  /** Supplies W3C trace context to store in each job (see observability/tracing). */
  traceContext?: () => Record<string, string> | undefined;
}

/**
 * What enqueue returns. For a re-submission (same idempotency key, same payload) it is the
 * first submission's job, token and state, and its outcome once there is one.
 */
export type EnqueueResult = ReserveResult;

export interface Producer {
  /** @throws RequestValidationError, IdempotencyConflictError */
  enqueue(request: unknown): Promise<EnqueueResult>;
  /**
   * Validates every request first; one invalid request (BatchValidationError) or one idempotency
   * conflict (IdempotencyConflictError with `index`) refuses the whole batch. One MULTI per batch.
   */
  enqueueMany(requests: readonly unknown[]): Promise<EnqueueResult[]>;
  readonly queue: Queue;
  close(): Promise<void>;
}

export function createProducer(options: ProducerOptions = {}): Producer {
  const ownsConnection = typeof options.redis !== "object";
  const connection = typeof options.redis === "object" ? options.redis : createRedis(options.redis ?? "redis://127.0.0.1:6379");
  // WATCH is per connection: reservations get a connection of their own, used one at a time.
  const txConnection = duplicateConnection(connection);
  defineRecordScripts(txConnection);
  const prefix = options.prefix ?? DEFAULT_QUEUE_LOCATION.prefix;
  const queueName = options.queueName ?? DEFAULT_QUEUE_LOCATION.requestsQueue;
  const jobOptions = requestJobOptions({ ...DEFAULT_RETRY_POLICY, ...options.retry });
  const queue = new Queue(queueName, { connection, prefix, defaultJobOptions: jobOptions });
  const txQueue = new Queue(queueName, { connection: txConnection, prefix, defaultJobOptions: jobOptions });
  const exclusive = createMutex();

  function prepare(request: AcceptRequest, index: number, enqueuedAt: string, trace: Record<string, string> | undefined): PreparedRequest {
    const idempotencyKey = request.idempotencyKey ?? defaultIdempotencyKey(request.catalog, request.identifier);
    const payload = fingerprintPayload(request);
    const payloadJson = canonicalJson(payload);
    const clientToken = request.clientToken ?? deriveClientToken(idempotencyKey);
    const data: AcceptJobData = {
      v: JOB_DATA_VERSION,
      request: { ...request, clientToken, correlationId: request.correlationId ?? randomUUID() },
      clientToken,
      idempotencyKey,
      enqueuedAt,
      throttleRequeues: 0,
      ...(trace ? { trace } : {}),
    };
    return {
      index,
      idempotencyKey,
      recordKey: idempotencyRecordKey(prefix, queueName, idempotencyKey),
      fp: fingerprint(payload, payloadJson),
      payload,
      payloadJson,
      jobId: newRequestJobId(request.catalog, request.identifier),
      data,
    };
  }

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
    const trace = options.traceContext?.();
    const items = valid.map((r, i) => prepare(r, i, enqueuedAt, trace));
    return exclusive(() => reserveAndEnqueue(txConnection, txQueue, items, jobOptions));
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
        if (err instanceof IdempotencyConflictError) throw new IdempotencyConflictError(err.idempotencyKey, err.differences, err.existingJobId);
        throw err;
      }
    },
    async close() {
      // Let the duplicate connection finish BullMQ's start-up commands first: dropping it while
      // they are pending rejects them with "Connection is closed" where no one is listening.
      await txQueue.waitUntilReady().catch(() => undefined);
      await txQueue.close();
      await queue.close();
      txConnection.disconnect();
      if (ownsConnection) connection.disconnect();
    },
  };
}
