import type { ClassifiedError } from "../aws/classify-error.js";

/**
 * The worker's reaction to a fault of its own (classifyError kind "fault": no usable credentials,
 * an expired token, a skewed clock): stop taking jobs for a while, then try again with the next
 * job, backing off exponentially while the fault lasts. The requests stay queued with their
 * attempts intact (the shell puts each faulted job back in the delayed set), and the worker says
 * it is unhealthy until a call goes through again.
 */
export interface FaultPause {
  /** A call failed with a fault. Returns how long the job should wait before it runs again. */
  trip(error: ClassifiedError): number;
  /** A call reached the API (whatever it answered): the fault is over. */
  clear(): void;
  /** Null when healthy; else the fault and since when. */
  readonly fault: { error: ClassifiedError; since: Date; backoffMs: number } | null;
}

export interface FaultPauseOptions {
  /** Stop taking jobs (in-flight ones go on). */
  pause(): void;
  /** Take jobs again: the next one probes whether the fault is over. */
  resume(): void;
  /** The first fault of an episode, and each longer pause after it. */
  onPause?(error: ClassifiedError, backoffMs: number, firstOfEpisode: boolean): void;
  onRecover?(error: ClassifiedError, pausedMs: number): void;
  /** @defaultValue 5000 */
  minBackoffMs?: number;
  /** @defaultValue 300000 */
  maxBackoffMs?: number;
}

export function createFaultPause(options: FaultPauseOptions): FaultPause & { close(): void } {
  const min = options.minBackoffMs ?? 5000;
  const max = options.maxBackoffMs ?? 300_000;
  let fault: { error: ClassifiedError; since: Date; backoffMs: number } | null = null;
  let paused = false;
  let timer: NodeJS.Timeout | undefined;
  return {
    get fault() {
      return fault;
    },
    trip(error) {
      const first = fault === null;
      // Each fault while probing (paused, resumed, failed again) doubles the pause.
      if (!paused) {
        const backoffMs = first ? min : Math.min(max, fault!.backoffMs * 2);
        fault = { error, since: fault?.since ?? new Date(), backoffMs };
        paused = true;
        options.pause();
        options.onPause?.(error, backoffMs, first);
        timer = setTimeout(() => {
          paused = false;
          options.resume();
        }, backoffMs);
        timer.unref();
      }
      return fault!.backoffMs;
    },
    clear() {
      if (!fault) return;
      const was = fault;
      fault = null;
      clearTimeout(timer);
      if (paused) {
        paused = false;
        options.resume();
      }
      options.onRecover?.(was.error, Date.now() - was.since.getTime());
    },
    close() {
      clearTimeout(timer);
    },
  };
}
