import type { ClassifiedError } from "../aws/classify-error.js";
import { CONFIG_DEFAULTS } from "../schemas/config.js";

/**
 * The worker's reaction to a fault of its own (classifyError kind "fault": no usable credentials,
 * an expired token, a skewed clock): stop taking jobs for a while, then try again with the next
 * job, backing off exponentially while the fault lasts. The requests stay queued with their
 * attempts intact (the shell puts each faulted job back in the delayed set), and the worker says
 * it is unhealthy until a call goes through again.
 *
 * An episode runs from the first fault to the first call that reaches the API again. Its pauses
 * are min, 2·min, 4·min… up to max, then max again for as long as it lasts; faults of the jobs
 * still in flight while paused change nothing (they are the same episode, already paused for).
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
  /**
   * Each pause: the first of an episode (`firstOfEpisode`), then one per failed probe (a longer
   * pause, or max again once the pause is at its max). Never for faults while already paused.
   */
  onPause?(error: ClassifiedError, backoffMs: number, firstOfEpisode: boolean): void;
  onRecover?(error: ClassifiedError, pausedMs: number): void;
  /** @defaultValue FAULT_PAUSE_MS's default, 5000 */
  minBackoffMs?: number;
  /** @defaultValue FAULT_PAUSE_MAX_MS's default, 300000 */
  maxBackoffMs?: number;
}

export function createFaultPause(options: FaultPauseOptions): FaultPause & { close(): void } {
  const min = options.minBackoffMs ?? CONFIG_DEFAULTS.FAULT_PAUSE_MS;
  const max = Math.max(min, options.maxBackoffMs ?? CONFIG_DEFAULTS.FAULT_PAUSE_MAX_MS);
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

/** A log line: level, fields, message. */
export interface FaultLogLine {
  level: "error" | "warn" | "info";
  fields: Record<string, unknown>;
  message: string;
}

/**
 * What the worker logs about a fault episode: one error when it starts (the line to alert on),
 * then one warning per failed probe, each with the next pause (so at most one per
 * FAULT_PAUSE_MAX_MS once the pause is at its max: the log shows the episode still going on),
 * and one info line when AWS takes the worker's calls again, with how long it was paused.
 */
export function faultPauseLogLine(error: ClassifiedError, backoffMs: number, firstOfEpisode: boolean): FaultLogLine {
  const fields = {
    error: { name: error.name, message: error.message, httpStatus: error.httpStatus },
    pauseMs: backoffMs,
  };
  return firstOfEpisode
    ? {
        level: "error",
        fields,
        message:
          "AWS refused the worker's credentials or signature: taking no jobs (requests stay queued, attempts intact)",
      }
    : { level: "warn", fields, message: "still refused; pausing again" };
}

export function faultRecoveredLogLine(error: ClassifiedError, pausedMs: number): FaultLogLine {
  return {
    level: "info",
    fields: { error: { name: error.name }, pausedMs },
    message: "AWS accepts the worker's calls again; taking jobs",
  };
}
