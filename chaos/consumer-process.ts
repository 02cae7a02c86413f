/**
 * The outcome consumer process of the chaos run: consumeOutcomes, printing one line per event it
 * handled, before acknowledging it: `{"d": requestId, "e": eventId, "t": type, "c": completedAt,
 * "i": identifier, "at"}` (a pipe write on Linux is synchronous, so a line printed is a line the
 * harness gets, even if this process is SIGKILLed right after). Also `{"thrown": requestId}` when
 * the handler throws on purpose and `{"parked": requestId, "reason"}` when an event is parked.
 * IPC from the harness: `{ throwRate }` (0..1, the handler throws that often), `{ hangNext: true }`
 * (the next event's handler never returns; `{"hanging": requestId}` says which).
 */
import { consumeOutcomes, createLogger, isNotice } from "../src/index.js";

const env = process.env;
let throwRate = 0;
let hangNext = false;
process.on("message", (m: { throwRate?: number; hangNext?: boolean }) => {
  if (typeof m.throwRate === "number") throwRate = m.throwRate;
  if (m.hangNext) hangNext = true;
});
process.on("disconnect", () => process.exit(1));
const out = (o: unknown) => process.stdout.write(`${JSON.stringify(o)}\n`);

const consumer = consumeOutcomes(
  async (event) => {
    if (isNotice(event)) return;
    if (hangNext) {
      hangNext = false;
      out({ hanging: event.requestId });
      await new Promise(() => {});
    }
    if (throwRate > 0 && Math.random() < throwRate) {
      out({ thrown: event.requestId });
      throw new Error("chaos: downstream unavailable");
    }
    out({
      d: event.requestId,
      e: event.eventId,
      t: event.type,
      c: event.completedAt,
      i: event.identifier,
      at: Date.now(),
    });
  },
  {
    redis: env.REDIS_URL,
    prefix: env.QUEUE_PREFIX,
    concurrency: 8,
    lockDurationMs: Number(env.LOCK_DURATION_MS),
    stalledIntervalMs: Number(env.STALLED_INTERVAL_MS),
    retryDelayMs: 100,
    maxRetryDelayMs: 2000,
    logger: createLogger({ level: env.LOG_LEVEL ?? "warn", name: "chaos-consumer" }),
    onError: (err) => {
      const e = err as { name?: string; requestId?: string; reason?: string };
      if (e?.name === "OutcomeParkedError") out({ parked: e.requestId, reason: e.reason });
    },
  },
);
process.once("SIGTERM", () => void consumer.close().then(() => process.exit(0)));
