/**
 * README: a completed request's record answers re-submissions for IDEMPOTENCY_RETENTION_SECONDS,
 * then a submission is a new request. A cancel completes the record too (`pc-invitations cancel`):
 * its record gets that retention, no more (and never none), and once it has passed the same request
 * is a new one.
 */
import { afterEach, describe, expect, it } from "vitest";
import { startPipeline, type Pipeline } from "../helpers/pipeline.js";
import { runCli } from "../helpers/cli.js";
import { waitFor } from "../helpers/wait.js";
import { REDIS_URL } from "../helpers/redis.js";

let p: Pipeline | undefined;
afterEach(async () => {
  await p?.close();
  p = undefined;
});

/**
 * The keys of the request records under the pipeline's prefix (`<prefix>:<queue>:idem:<hash>`, the
 * layout records are stored under in Redis; the open-records index `…:idem-open` is not one).
 */
async function recordKeys(pl: Pipeline): Promise<string[]> {
  const keys: string[] = [];
  let cursor = "0";
  do {
    const [next, batch] = await pl.redis.scan(cursor, "MATCH", `${pl.prefix}:*:idem:*`, "COUNT", 1000);
    keys.push(...batch);
    cursor = next;
  } while (cursor !== "0");
  return keys;
}

describe("pc-invitations cancel: the canceled request's record", () => {
  it("is kept IDEMPOTENCY_RETENTION_SECONDS; after that the same request is a new one", async () => {
    p = await startPipeline({ label: "cancel-retention" });
    const retentionSeconds = 3;
    const env = {
      REDIS_URL,
      QUEUE_PREFIX: p.prefix,
      LOG_LEVEL: "warn",
      IDEMPOTENCY_RETENTION_SECONDS: String(retentionSeconds),
    };
    const inv = p.emulator.seedInvitation();
    const req = { catalog: inv.catalog, identifier: inv.identifier };
    const r = await p.producer.enqueue(req);
    const [recordKey, ...others] = await recordKeys(p);
    expect(others).toEqual([]);
    // Queued: no TTL.
    expect(await p.redis.pttl(recordKey!)).toBe(-1);

    const run = await runCli(["cancel", r.jobId, "--json"], env);
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ type: "canceled", requestId: r.jobId });
    // At most the retention, read right after the cancel: -2 (already gone) only on a machine that
    // stalled past it, never -1 (kept for ever) nor more than the retention.
    const pttl = await p.redis.pttl(recordKey!);
    expect(pttl === -2 || (pttl > 0 && pttl <= retentionSeconds * 1000), `PTTL ${pttl} ms`).toBe(true);

    // Gone once the retention has passed: the same request is a new one, with a job of its own.
    const again = await waitFor(
      async () => {
        const res = await p!.producer.enqueue(req);
        return res.duplicate ? undefined : res;
      },
      30_000,
      "a re-submission to be a new request",
    );
    expect(again.jobId).not.toBe(r.jobId);
    expect(await p.producer.queue.getJobState(again.jobId)).toBe("waiting");
  });
});
