import { Job, Queue, SpanKind, type JobsOptions, type QueueOptions } from "bullmq";
import type { ChainableCommander } from "ioredis";
import { duplicateConnection, type RedisConnection } from "./connection.js";

/**
 * A Queue on a connection of its own, for optimistic transactions (WATCH … MULTI … EXEC) that add
 * jobs together with other writes. WATCH state belongs to a connection, so the transactions of one
 * TxQueue run one at a time (`exclusive`); BullMQ's scripts are loaded on that same connection, so
 * a MULTI opened here can run BullMQ's addJob.
 */
export interface TxQueue {
  readonly queue: Queue;
  /** The dedicated connection: WATCH and the reads of a transaction go here. */
  readonly redis: RedisConnection;
  /** Runs `fn` alone on the connection. */
  exclusive<T>(fn: () => Promise<T>): Promise<T>;
  /** A MULTI on the dedicated connection. */
  multi(): Promise<ChainableCommander>;
  close(): Promise<void>;
}

export function createTxQueue(connection: RedisConnection, name: string, options: Omit<QueueOptions, "connection">): TxQueue {
  const redis = duplicateConnection(connection);
  const queue = new Queue(name, { ...options, connection: redis });
  // Errors reach the callers of each transaction; without a listener BullMQ prints them whole
  // (console.error), AUTH arguments included.
  queue.on("error", () => {});
  let tail: Promise<unknown> = Promise.resolve();
  return {
    queue,
    redis,
    exclusive<T>(fn: () => Promise<T>): Promise<T> {
      const result = tail.then(fn, fn);
      tail = result.catch(() => undefined);
      return result;
    },
    async multi() {
      const client = await queue.getBackend().client;
      return client.multi() as unknown as ChainableCommander;
    },
    async close() {
      // Let BullMQ's start-up commands finish first (INFO, then the queue meta write it sends once
      // ready): dropping the connection while they are pending rejects them with "Connection is
      // closed". Then QUIT, not disconnect: Redis answers what was sent before QUIT (on a Cluster,
      // every node does), where disconnect would reject it. Both bounded, so a Redis that is away
      // cannot hold close() up; then the socket is dropped.
      const bounded = async (p: Promise<unknown>) => {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([p.catch(() => undefined), new Promise((resolve) => (timer = setTimeout(resolve, 2000)))]);
        clearTimeout(timer);
      };
      await bounded(queue.waitUntilReady());
      await queue.close();
      await bounded(redis.quit());
      if (redis.status !== "end") redis.disconnect();
    },
  };
}

/**
 * Queues BullMQ's own addJob script for one job on `tx`: the job is written when, and only if, the
 * transaction executes. (BullMQ's public add runs its own command; this is how a job joins ours.)
 */
export function addJobInTransaction(queue: Queue, tx: ChainableCommander, job: { name: string; data: unknown; opts: JobsOptions; jobId: string }): void {
  void new Job(queue, job.name, job.data, { ...job.opts, jobId: job.jobId }, job.jobId).addJob(tx as never).catch(() => undefined);
}

/**
 * Runs `fn` as a BullMQ PRODUCER span of `queue` (a no-op without telemetry). `fn` receives the
 * span's context as BullMQ's telemetry metadata: store it on each job's `opts.telemetry.metadata`
 * and the worker's CONSUMER span becomes its child, as with BullMQ's own `add`.
 */
export async function producerSpan<T>(queue: Queue, operation: string, destination: string, fn: (telemetryMetadata: string | undefined) => Promise<T>): Promise<T> {
  return await queue.trace(SpanKind.PRODUCER, operation, destination, (_span, metadata) => fn(metadata));
}
