import { performance } from "node:perf_hooks";
import { RateLimitedError } from "./rate-limited-error.js";
import type { AcquireOptions, AcquireResult, TryAcquireOptions } from "./shared-rate-limiter.js";

export type TryAcquire = (limitKey: string, opts: TryAcquireOptions) => Promise<AcquireResult>;

/** Most first attempts looked at for one poll (half of them are asked for). */
const MAX_BATCH = 64;

export interface WaitOptions extends AcquireOptions {
  signal?: AbortSignal;
  /** Give up (RateLimitedError) rather than wait longer than this in total. @defaultValue Infinity */
  maxWaitMs?: number;
}

interface Waiter {
  retry: boolean;
  maxWaitMs: number;
  startedAt: number;
  signal: AbortSignal | undefined;
  done: boolean;
  resolve(waitedMs: number): void;
  reject(err: unknown): void;
  onAbort?: () => void;
}

interface KeyQueue {
  waiters: Waiter[];
  pumping: boolean;
  /** Ends the pump's current sleep early (the head was aborted). */
  wake?: () => void;
}

/**
 * `acquire` on top of `tryAcquire`: the waiters of one process are served first in, first out,
 * per limit key, and only the oldest one polls, sleeping exactly the `retryInMs` the limiter
 * answered. So N waiters in a process cost one poll per admission instead of N (no thundering
 * herd at each slot), and admissions across processes stay as exact as tryAcquire itself. Half
 * of the first attempts waiting in a row at the head are polled for together (`count`): when the
 * schedule has room for several calls now, one round trip admits them all, where one poll per
 * call would serialise every admission behind a Redis round trip.
 *
 * Guarantees: a waiter resolves only after an admission for it was counted (one admission, one
 * waiter); an aborted waiter rejects with the signal's reason at once. An abort that races an
 * admission in flight passes the admission to the next waiter of the same kind (retry or first
 * attempt), else that slot goes unused.
 */
export function createAdmissionQueue(tryAcquire: TryAcquire, now: () => number = () => performance.now()) {
  const queues = new Map<string, KeyQueue>();

  function settle(w: Waiter, q: KeyQueue, outcome: { ok: number } | { err: unknown }): void {
    if (w.done) return;
    w.done = true;
    if (w.onAbort) w.signal?.removeEventListener("abort", w.onAbort);
    const i = q.waiters.indexOf(w);
    if (i >= 0) q.waiters.splice(i, 1);
    if ("ok" in outcome) w.resolve(outcome.ok);
    else w.reject(outcome.err);
  }

  async function pump(limitKey: string, q: KeyQueue): Promise<void> {
    if (q.pumping) return;
    q.pumping = true;
    try {
      while (q.waiters.length > 0) {
        const head = q.waiters[0]!;
        const kind = head.retry;
        // Half of the first attempts waiting in a row at the head (rounded up) are asked for
        // together: one poll admits as many of them as the schedule allows now. A retry is asked
        // for alone. Half, not all: jobs admitted together call, finish and come back together,
        // and a whole run admitted at once would keep them in lockstep (their CPU work bunched, in
        // a process that has nothing else to do meanwhile); halving splits every clump, so the
        // runs shrink when the queue is short and stay long only while it is long.
        let run = 1;
        if (!kind) while (run < MAX_BATCH && run < q.waiters.length && !q.waiters[run]!.retry) run++;
        const count = Math.ceil(run / 2);
        let r: AcquireResult;
        try {
          r = await tryAcquire(limitKey, count > 1 ? { retry: false, count } : { retry: kind });
        } catch (err) {
          settle(head, q, { err });
          continue;
        }
        if (r.admitted) {
          // To the oldest waiters of the kind admitted, the head first (or, if it was aborted
          // meanwhile, the next of its kind); an admission nobody is left to take goes unused.
          let granted = Math.max(1, r.count ?? 1);
          for (const w of [...q.waiters]) {
            if (granted === 0) break;
            if (w.retry !== kind) continue;
            settle(w, q, { ok: now() - w.startedAt });
            granted--;
          }
          continue;
        }
        if (head.done) continue;
        const waited = now() - head.startedAt;
        if (r.reason === "retry-budget" || waited + r.retryInMs > head.maxWaitMs) {
          settle(head, q, { err: new RateLimitedError(limitKey, r.reason, r.retryInMs) });
          continue;
        }
        await new Promise<void>((resolve) => {
          const timer = setTimeout(() => wake(), r.retryInMs);
          const wake = () => {
            clearTimeout(timer);
            q.wake = undefined;
            resolve();
          };
          q.wake = wake;
        });
      }
    } finally {
      q.pumping = false;
      if (q.waiters.length === 0) queues.delete(limitKey);
    }
  }

  return function acquire(limitKey: string, opts: WaitOptions = {}): Promise<number> {
    const { signal } = opts;
    if (signal?.aborted) return Promise.reject(signal.reason);
    let q = queues.get(limitKey);
    if (!q) {
      q = { waiters: [], pumping: false };
      queues.set(limitKey, q);
    }
    const queue = q;
    return new Promise<number>((resolve, reject) => {
      const w: Waiter = {
        retry: opts.retry === true,
        maxWaitMs: opts.maxWaitMs ?? Number.POSITIVE_INFINITY,
        startedAt: now(),
        signal,
        done: false,
        resolve,
        reject,
      };
      if (signal) {
        w.onAbort = () => {
          const wasHead = queue.waiters[0] === w;
          settle(w, queue, { err: signal.reason });
          if (wasHead) queue.wake?.();
        };
        signal.addEventListener("abort", w.onAbort, { once: true });
      }
      queue.waiters.push(w);
      void pump(limitKey, queue);
    });
  };
}
