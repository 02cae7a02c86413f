/**
 * A producer process of the chaos run. Enqueues the requests of CHAOS_REQUESTS_FILE (NDJSON) in
 * batches, but only as far as the harness released them (IPC `{ release: n }`), so that requests
 * keep arriving while faults are injected. A failed batch is retried until it goes through: a
 * request counts as acknowledged only when enqueueMany returned it, and each acknowledgement is
 * printed on stdout: `{"ack": jobId, "identifier", "duplicate", "at"}`. Exits 0 once all are acknowledged.
 */
import { readFileSync } from "node:fs";
import { createProducer } from "../src/index.js";

const env = process.env;
const requests = readFileSync(env.CHAOS_REQUESTS_FILE!, "utf8")
  .split("\n")
  .filter((l) => l.startsWith("{"))
  .map((l) => JSON.parse(l) as { catalog: string; identifier: string });
const batch = Number(env.CHAOS_BATCH ?? "50");
/** An enqueueMany that has not answered after this long is given up and retried (Redis frozen or gone). */
const CALL_TIMEOUT_MS = 60_000;
const producer = createProducer({
  redis: env.REDIS_URL,
  prefix: env.QUEUE_PREFIX,
  retry: {
    attempts: Number(env.JOB_ATTEMPTS ?? "6"),
    backoffDelayMs: Number(env.BACKOFF_DELAY_MS ?? "100"),
    backoffJitter: 0.5,
  },
});

let released = 0;
let wake: (() => void) | undefined;
process.on("message", (m: { release?: number }) => {
  if (typeof m.release === "number") {
    released = Math.max(released, Math.min(m.release, requests.length));
    wake?.();
  }
});
process.on("disconnect", () => process.exit(1));

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const out = (o: unknown) => process.stdout.write(`${JSON.stringify(o)}\n`);

let next = 0;
let failures = 0;
while (next < requests.length) {
  if (next >= released) {
    await new Promise<void>((r) => (wake = r));
    continue;
  }
  const slice = requests.slice(next, Math.min(next + batch, released));
  try {
    let timer: NodeJS.Timeout | undefined;
    const results = await Promise.race([
      producer.enqueueMany(slice),
      new Promise<never>(
        (_, reject) =>
          (timer = setTimeout(
            () => reject(new Error(`enqueueMany: no answer after ${CALL_TIMEOUT_MS} ms`)),
            CALL_TIMEOUT_MS,
          )),
      ),
    ]).finally(() => clearTimeout(timer));
    const at = Date.now();
    for (const [i, r] of results.entries())
      out({ ack: r.jobId, identifier: slice[i]!.identifier, duplicate: r.duplicate, at });
    next += slice.length;
  } catch (err) {
    failures++;
    process.stderr.write(
      `${JSON.stringify({ msg: "enqueueMany failed; retrying the batch", err: (err as Error).message, failures })}\n`,
    );
    await sleep(250);
  }
}
out({ done: true, failures });
await producer.close().catch(() => undefined);
process.exit(0);
