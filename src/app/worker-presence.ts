import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import type { FaultPause } from "../consumer/fault-pause.js";
import type { Logger } from "../observability/logger.js";
import type { WorkerBeat, WorkerRegistry } from "../store/request-store.js";

/** A worker writes its beat this often, ms. */
export const WORKER_BEAT_INTERVAL_MS = 5000;
/** A beat is kept this long, ms: a worker that missed three beats in a row (dead, hung) is no longer alive. */
export const WORKER_BEAT_TTL_MS = 3 * WORKER_BEAT_INTERVAL_MS;

export interface WorkerPresence {
  readonly id: string;
  /** Writes a beat now (the fault pause began or ended: status shows it at once). */
  beatNow(): void;
  /** Stops beating and forgets the worker (a clean shutdown: it is no longer counted at once). */
  stop(): Promise<void>;
}

/**
 * A worker process's presence in the store, for `status` and the console across machines: who it
 * is, the limits it calls through, and the fault it is paused for (which otherwise only its memory,
 * its log and its metrics know). Beats every WORKER_BEAT_INTERVAL_MS; each lasts WORKER_BEAT_TTL_MS.
 * A beat that cannot be written (Redis away) is tried again at the next one, never thrown.
 */
export function startWorkerPresence(options: {
  store: WorkerRegistry;
  logger: Logger;
  concurrency: number;
  limitKeys: () => Iterable<string>;
  fault: () => FaultPause["fault"];
  /** @defaultValue WORKER_BEAT_INTERVAL_MS */
  intervalMs?: number;
}): WorkerPresence {
  const intervalMs = options.intervalMs ?? WORKER_BEAT_INTERVAL_MS;
  const ttlMs = 3 * intervalMs;
  const host = hostname();
  const id = `${host}:${process.pid}:${randomBytes(3).toString("hex")}`;
  const startedAt = new Date().toISOString();
  let stopped = false;
  let failing = false;
  let writing: Promise<void> = Promise.resolve();

  const beat = (): WorkerBeat => {
    const fault = options.fault();
    return {
      id,
      host,
      pid: process.pid,
      startedAt,
      concurrency: options.concurrency,
      limitKeys: [...options.limitKeys()].sort(),
      fault: fault
        ? {
            name: fault.error.name,
            message: fault.error.message,
            since: fault.since.toISOString(),
            pauseMs: fault.backoffMs,
          }
        : null,
    };
  };
  const write = () => {
    if (stopped) return;
    // One write at a time, in order: a beat never overtakes a later one.
    writing = writing.then(async () => {
      if (stopped) return;
      try {
        await options.store.beatWorker(beat(), ttlMs);
        if (failing) options.logger.info("worker beat written again");
        failing = false;
      } catch (err) {
        if (!failing)
          options.logger.warn({ err: { message: (err as Error).message } }, "could not write the worker beat");
        failing = true;
      }
    });
  };
  write();
  const timer = setInterval(write, intervalMs);
  timer.unref();
  return {
    id,
    beatNow: write,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await writing;
      await options.store.removeWorker(id).catch(() => undefined);
    },
  };
}
