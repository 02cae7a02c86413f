import { Job, Queue, SpanKind, type JobsOptions, type QueueOptions } from "bullmq";
import type { ChainableCommander } from "ioredis";
import { duplicateConnection, type RedisConnection } from "./connection.js";

/** One connection of a TxQueue's pool, used by one transaction at a time. */
export interface TxSession {
  /** A Queue on this connection (BullMQ's scripts are loaded here, so a MULTI opened here can add jobs). */
  readonly queue: Queue;
  /** The connection: WATCH and the reads of a transaction go here. */
  readonly redis: RedisConnection;
  /** A MULTI on this connection. */
  multi(): Promise<ChainableCommander>;
}

/**
 * Queues on connections of their own, for optimistic transactions (WATCH … MULTI … EXEC) that add
 * jobs together with other writes. WATCH state belongs to a connection, so each connection serves
 * one transaction at a time; a small pool of them (opened as the load asks for them, up to `size`)
 * lets transactions on different keys run side by side, where one connection would queue them all.
 */
export interface TxQueue {
  /** The queue of the first connection (names and keys are the same on every connection). */
  readonly queue: Queue;
  /** Runs `fn` with a connection no other transaction is using; waits first-in first-out for one. */
  exclusive<T>(fn: (session: TxSession) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export interface TxQueueOptions extends Omit<QueueOptions, "connection"> {
  /** Most connections of the pool. @defaultValue 4 */
  poolSize?: number;
  /** Runs on each connection when it is opened (e.g. to define scripts on it). */
  onConnection?: (redis: RedisConnection) => void;
}

export function createTxQueue(connection: RedisConnection, name: string, options: TxQueueOptions): TxQueue {
  const { poolSize = 4, onConnection, ...queueOptions } = options;
  const sessions: TxSession[] = [];
  const free: TxSession[] = [];
  const waiting: Array<(s: TxSession) => void> = [];
  const open = (): TxSession => {
    const redis = duplicateConnection(connection);
    onConnection?.(redis);
    const queue = new Queue(name, { ...queueOptions, connection: redis });
    // Errors reach the callers of each transaction; without a listener BullMQ prints them whole
    // (console.error), AUTH arguments included.
    queue.on("error", () => {});
    const session: TxSession = {
      queue,
      redis,
      async multi() {
        const client = (await queue.getBackend().client) as unknown as RedisConnection;
        const tx = client.multi();
        // ioredis sends a script's body (EVAL) the first time it is used on a socket, its SHA after
        // that, whether or not the EVAL ran. A MULTI that did not execute (WATCH saw a change, Redis
        // refused it: OOM, EXECABORT) leaves such a script unknown to Redis, and the next MULTI's
        // EVALSHA would fail with NOSCRIPT inside EXEC, where nothing is rolled back: the other
        // writes would land without the script's. So after an EXEC that did not fully succeed,
        // Redis is taught the scripts this MULTI sent as bodies (SCRIPT LOAD, allowed even when
        // Redis is full) before the session serves another transaction.
        const exec = tx.exec.bind(tx);
        tx.exec = (async () => {
          let results: Awaited<ReturnType<typeof exec>>;
          try {
            results = await exec();
          } catch (err) {
            await teachScripts(client, tx);
            throw err;
          }
          if (results === null || results.some(([err]) => err)) await teachScripts(client, tx);
          return results;
        }) as typeof tx.exec;
        return tx as unknown as ChainableCommander;
      },
    };
    sessions.push(session);
    return session;
  };
  const first = open();
  free.push(first);
  const take = (): Promise<TxSession> => {
    const s = free.pop() ?? (sessions.length < Math.max(1, poolSize) ? open() : undefined);
    return s ? Promise.resolve(s) : new Promise((resolve) => waiting.push(resolve));
  };
  const give = (s: TxSession) => {
    const next = waiting.shift();
    if (next) next(s);
    else free.push(s);
  };
  return {
    queue: first.queue,
    async exclusive<T>(fn: (session: TxSession) => Promise<T>): Promise<T> {
      const session = await take();
      try {
        return await fn(session);
      } finally {
        give(session);
      }
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
      await Promise.all(
        sessions.map(async ({ queue, redis }) => {
          await bounded(queue.waitUntilReady());
          await queue.close();
          await bounded(redis.quit());
          if (redis.status !== "end") redis.disconnect();
        }),
      );
    },
  };
}

/**
 * SCRIPT LOAD of the scripts a MULTI sent as bodies (EVAL: their first use on the socket), on every
 * master of a Cluster. Only those: loading every script of the connection (BullMQ has dozens) would
 * take memory a full Redis does not have. Reads ioredis' queue of the pipeline's commands (`_queue`,
 * internal; test/integration/transaction-scripts.test.ts fails if it goes). Best effort: a Redis
 * that cannot be told is away, and the connection's next socket starts afresh.
 */
async function teachScripts(client: RedisConnection, tx: unknown): Promise<void> {
  const queued = (tx as { _queue?: Array<{ name: string; args: unknown[] }> })._queue ?? [];
  const bodies = [
    ...new Set(
      queued.filter((c) => c.name === "eval" && typeof c.args[0] === "string").map((c) => c.args[0] as string),
    ),
  ];
  if (bodies.length === 0) return;
  const targets = "nodes" in client && typeof client.nodes === "function" ? client.nodes("master") : [client];
  await Promise.all(
    targets.map(async (node) => {
      const pipeline = node.pipeline();
      for (const lua of bodies) pipeline.script("LOAD", lua);
      await pipeline.exec();
    }),
  ).catch(() => undefined);
}

/**
 * Queues BullMQ's own addJob script for one job on `tx`: the job is written when, and only if, the
 * transaction executes. (BullMQ's public add runs its own command; this is how a job joins ours.)
 */
export function addJobInTransaction(
  queue: Queue,
  tx: ChainableCommander,
  job: { name: string; data: unknown; opts: JobsOptions; jobId: string },
): void {
  void new Job(queue, job.name, job.data, { ...job.opts, jobId: job.jobId }, job.jobId)
    .addJob(tx as never)
    .catch(() => undefined);
}

/**
 * Runs `fn` as a BullMQ PRODUCER span of `queue` (a no-op without telemetry). `fn` receives the
 * span's context as BullMQ's telemetry metadata: store it on each job's `opts.telemetry.metadata`
 * and the worker's CONSUMER span becomes its child, as with BullMQ's own `add`.
 */
export async function producerSpan<T>(
  queue: Queue,
  operation: string,
  destination: string,
  fn: (telemetryMetadata: string | undefined) => Promise<T>,
): Promise<T> {
  return await queue.trace(SpanKind.PRODUCER, operation, destination, (_span, metadata) => fn(metadata));
}
