import { hostname } from "node:os";
import type { RedisConnection } from "./connection.js";
import { processProbeKey } from "./keys.js";
import { isRedisRefusal } from "./redis-errors.js";

/**
 * Waits, for every job slot of a process at once, until Redis accepts writes again: one probe
 * loop per process (a short-lived SET, which a full Redis refuses), with a backoff from 250 ms up
 * to 10 s. Slots that hit a refusal await the same loop; it ends when a probe write succeeds.
 */
export interface WriteGate {
  /** Resolves when a probe write succeeds; rejects with the signal's reason when it aborts first. */
  untilWritable(signal?: AbortSignal): Promise<void>;
  /** True while a probe loop runs (Redis refused a write and has not accepted one since). */
  readonly waiting: boolean;
}

export function createWriteGate(
  redis: RedisConnection,
  probeKey: string,
  options: { minDelayMs?: number; maxDelayMs?: number; onProbeFailed?: (err: unknown) => void } = {},
): WriteGate {
  const minDelay = options.minDelayMs ?? 250;
  const maxDelay = options.maxDelayMs ?? 10_000;
  let loop: Promise<void> | undefined;
  const probe = async () => {
    for (let delay = minDelay; ; delay = Math.min(maxDelay, delay * 2)) {
      await new Promise((r) => setTimeout(r, delay));
      try {
        await redis.set(probeKey, String(Date.now()), "PX", 60_000);
        return;
      } catch (err) {
        if (!isRedisRefusal(err)) throw err;
        options.onProbeFailed?.(err);
      }
    }
  };
  return {
    get waiting() {
      return loop !== undefined;
    },
    untilWritable(signal) {
      loop ??= probe().finally(() => (loop = undefined));
      if (!signal) return loop;
      return new Promise<void>((resolve, reject) => {
        if (signal.aborted) return reject(signal.reason);
        const onAbort = () => reject(signal.reason);
        signal.addEventListener("abort", onAbort, { once: true });
        loop!.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
      });
    },
  };
}

/** A process's write gate: its probe key is its own (host and pid), in the queue prefix's slot. */
export function processWriteGate(redis: RedisConnection, prefix: string): WriteGate {
  return createWriteGate(redis, processProbeKey(prefix, hostname(), process.pid));
}
