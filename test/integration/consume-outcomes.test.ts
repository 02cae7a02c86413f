import { Writable } from "node:stream";
import { pino } from "pino";
import { Queue } from "bullmq";
import { describe, expect, it } from "vitest";
import { OutcomeParkedError } from "../../src/errors/index.js";
import { consumeOutcomes, isNotice } from "../../src/outcomes/consume.js";
import { listParkedOutcomes, replayParkedOutcomes } from "../../src/store/redis/parked.js";
import type { OutcomeEvent } from "../../src/contracts/outcome.js";
import { startPipeline } from "../helpers/pipeline.js";
import { pipelineWithOutcomes, waitForOutcomes } from "../helpers/outcomes.js";
import { waitFor } from "../helpers/wait.js";
import { startRedisServer } from "../helpers/redis-server.js";
import { uniquePrefix } from "../helpers/redis.js";
import { createRedis } from "../../src/store/redis/connection.js";

describe("consumeOutcomes", () => {
  it(
    "retries after retryDelayMs an event whose handler threw undefined or " +
      "rejected with null, as any other failure, counted towards maxAttempts",
    async () => {
      const { p, invs } = await pipelineWithOutcomes("consume-throw-undefined", 2);
      try {
        const calls = new Map<string, number>();
        const handled: string[] = [];
        const errors: unknown[] = [];
        const consumer = consumeOutcomes(
          (event) => {
            if (isNotice(event)) return;
            const n = (calls.get(event.requestId) ?? 0) + 1;
            calls.set(event.requestId, n);
            if (n === 1)
              return event.identifier === invs[0]!.identifier
                ? Promise.reject(null)
                : (() => {
                    throw undefined;
                  })();
            handled.push(event.requestId);
          },
          // A lock far longer than the test: a redelivery can only come from the retry, not from a lost lock.
          {
            redis: p.redis,
            prefix: p.prefix,
            retryDelayMs: 20,
            lockDurationMs: 600_000,
            onError: (e) => errors.push(e),
          },
        );
        try {
          await waitFor(
            () => handled.length === 2 || undefined,
            15_000,
            "both events handled on their second delivery",
          );
        } finally {
          await consumer.close(); // before the prefix is deleted, whatever happened: nothing left behind
        }
        expect([...calls.values()]).toEqual([2, 2]);
        expect([...errors].sort()).toEqual([null, undefined]);
      } finally {
        await p.close();
      }
    },
  );

  it(
    "parks at once an event the parser cannot even walk (metadata nested " +
      "2,000 deep overflows zod's recursion) instead of retrying it for ever",
    async () => {
      const {
        p,
        events: [published],
      } = await pipelineWithOutcomes("consume-deep", 1);
      try {
        // The same event again under another id, its metadata nested 2,000 deep (written by hand:
        // nothing of ours writes such an event).
        let metadata: Record<string, unknown> = {};
        for (let i = 0; i < 2000; i++) metadata = { a: metadata };
        const outcomes = new Queue("invitation-outcomes", { connection: p.redis, prefix: p.prefix });
        const deepJob = await outcomes.add(
          "outcome",
          { ...published!, requestId: "AWS.deep.1", metadata },
          { jobId: "AWS.deep.1", attempts: 1_000_000, backoff: { type: "fixed", delay: 10 } },
        );
        const handled: string[] = [];
        const consumer = consumeOutcomes(
          (event) => void handled.push(isNotice(event) ? event.eventId : event.requestId),
          {
            redis: p.redis,
            prefix: p.prefix,
            retryDelayMs: 10,
          },
        );
        try {
          await waitFor(
            async () => (await deepJob.getState()) === "failed" || undefined,
            10_000,
            "the unreadable event to be parked",
          );
          const parked = await outcomes.getJob("AWS.deep.1");
          expect(parked?.failedReason).toMatch(
            /does not match the outcome schema \(could not be read: Maximum call stack size exceeded\)/,
          );
          expect(parked?.attemptsMade).toBe(1);
          expect(handled).toEqual([published!.requestId]);
        } finally {
          // Before the prefix is deleted, whatever happened: a consumer still running would write it again.
          await consumer.close();
          await outcomes.close();
        }
      } finally {
        await p.close();
      }
    },
  );

  it("retries an outcome whose handler threw instead of losing it", async () => {
    const { p, invs } = await pipelineWithOutcomes("consume", 2);
    try {
      const seen: string[] = [];
      const handled = new Map<string, OutcomeEvent>();
      let failuresLeft = 2;
      const consumer = consumeOutcomes(
        (event) => {
          if (isNotice(event)) return;
          seen.push(event.requestId);
          if (event.identifier === invs[0]!.identifier && failuresLeft-- > 0) throw new Error("downstream unavailable");
          handled.set(event.requestId, event);
        },
        { redis: p.redis, prefix: p.prefix, retryDelayMs: 20 },
      );
      await waitFor(() => handled.size === 2 || undefined, 10_000, "both outcomes handled");
      await consumer.close();
      const first = [...handled.values()].find((e) => e.identifier === invs[0]!.identifier)!.requestId;
      expect(seen.filter((id) => id === first)).toHaveLength(3);
      expect([...handled.values()].map((e) => e.identifier).sort()).toEqual(invs.map((i) => i.identifier).sort());
    } finally {
      await p.close();
    }
  });

  it(
    "parks an event whose handler failed maxAttempts times: onError gets an " +
      "OutcomeParkedError, the log an error line, replay delivers it again",
    async () => {
      const p = await startPipeline({ label: "consume-park" });
      try {
        const [inv] = p.emulator.seedInvitations(1);
        await p.producer.enqueue({ catalog: inv!.catalog, identifier: inv!.identifier });
        await p.startWorker();
        const [published] = await waitForOutcomes(p.redis, p.prefix, 1);
        const logLines: Array<Record<string, unknown>> = [];
        const logger = pino(
          { level: "info" },
          new Writable({
            write: (chunk, _enc, cb) => {
              logLines.push(JSON.parse(String(chunk)));
              cb();
            },
          }),
        );
        const errors: unknown[] = [];
        let failing = true;
        const handled: string[] = [];
        const consumer = consumeOutcomes(
          (event) => {
            if (failing) throw new Error("downstream unavailable");
            if (!isNotice(event)) handled.push(event.requestId);
          },
          {
            redis: p.redis,
            prefix: p.prefix,
            retryDelayMs: 10,
            maxAttempts: 3,
            logger,
            onError: (e) => errors.push(e),
          },
        );
        try {
          const parked = await waitFor(
            () => errors.find((e): e is OutcomeParkedError => e instanceof OutcomeParkedError),
            10_000,
            "the event to be parked",
          );
          expect(parked).toMatchObject({ requestId: published!.requestId, code: "OUTCOME_PARKED" });
          expect(parked.reason).toMatch(/handler failed 3 times/);
          expect(errors.filter((e) => !(e instanceof OutcomeParkedError)).map((e) => (e as Error).message)).toEqual(
            Array(3).fill("downstream unavailable"),
          );
          expect(
            logLines.find((l) => l.msg === "outcome event parked: it will not be delivered again until replayed"),
          ).toMatchObject({
            level: 50,
            requestId: published!.requestId,
            eventId: published!.eventId,
            handlerFailures: 3,
          });
          const location = { redis: p.redis, prefix: p.prefix, queueName: "invitation-outcomes" };
          expect(await listParkedOutcomes(location)).toMatchObject([
            { requestId: published!.requestId, handlerFailures: 3, lostConsumers: 0 },
          ]);
          // Ids naming BullMQ's own keys of the queue (a stream, a counter: not hashes) are no events.
          expect(await replayParkedOutcomes(location, { ids: ["events", "id"], dryRun: true })).toEqual({
            replayed: [],
            notParked: [
              { requestId: "events", state: "missing" },
              { requestId: "id", state: "missing" },
            ],
            dryRun: true,
          });

          failing = false;
          expect(await replayParkedOutcomes(location)).toEqual({
            replayed: [published!.requestId],
            notParked: [],
            dryRun: false,
          });
          await waitFor(() => handled.length === 1 || undefined, 10_000, "the replayed event to be handled");
          expect(await listParkedOutcomes(location)).toEqual([]);
        } finally {
          await consumer.close();
        }
      } finally {
        await p.close();
      }
    },
  );
});

describe("consumeOutcomes: close", () => {
  // Killed or refusing the password: see test/e2e/shutdown-redis-down.test.ts (the CLI, a process of its own).
  it("resolves within closeTimeoutMs when its Redis is stopped (SIGSTOP), and done resolves too", async () => {
    const own = await startRedisServer({ password: "consume-close-pw" });
    try {
      const warnings: string[] = [];
      // As the CLI passes it: a connection of the caller's, which BullMQ duplicates for its blocking reads.
      const redis = createRedis(`redis://:consume-close-pw@127.0.0.1:${own.port}`);
      redis.on("error", () => {});
      const consumer = consumeOutcomes(() => {}, {
        redis,
        prefix: uniquePrefix("consume-close"),
        closeTimeoutMs: 500,
        logger: pino(
          { level: "warn" },
          new Writable({
            write(chunk, _enc, done) {
              warnings.push(String(chunk));
              done();
            },
          }),
        ),
      });
      await consumer.ready;
      own.process.kill("SIGSTOP");
      // Bounded by the test's timeout: without closeTimeoutMs, BullMQ's close waits for Redis for ever.
      await consumer.close();
      await consumer.done;
      redis.disconnect();
      expect(warnings.join("")).toContain("the outcome consumer did not close in time");
    } finally {
      own.process.kill("SIGCONT");
      await own.stop();
    }
  }, 30_000);
});
