/**
 * The history sink under runSink (delivery/event-sink.ts), as a `deliver` process runs it: events
 * published on a real Redis outcome log reach PostgreSQL once each, in log order, whatever is
 * handed twice; two deliverers at once (a lease moving between them) keep one chain.
 */
import type { Redis } from "ioredis";
import { afterAll, expect, it } from "vitest";
import type { OutcomeEvent } from "../../src/contracts/outcome.js";
import { runSink } from "../../src/delivery/event-sink.js";
import { createHistorySink } from "../../src/history/history-sink.js";
import { migrateHistory } from "../../src/history/migrate.js";
import { createHistoryPool, type HistoryPool } from "../../src/history/pool.js";
import { queryHistory } from "../../src/history/query.js";
import { verifyHistory } from "../../src/history/verify.js";
import { createRedis } from "../../src/store/redis/connection.js";
import { createRedisOutcomeLog } from "../../src/store/redis/outcome-log.js";
import { createOutcomeQueue } from "../../src/store/redis/publish.js";
import { accepted } from "../helpers/history-events.js";
import { createTestDatabase, type TestDatabase } from "../helpers/postgres.js";
import { deletePrefix, REDIS_URL, uniquePrefix } from "../helpers/redis.js";
import { waitFor } from "../helpers/wait.js";

const redis = createRedis(REDIS_URL) as Redis;
const prefix = uniquePrefix("history-sink");
const location = { prefix, requestsQueue: "accept-invitation", outcomesQueue: "invitation-outcomes" };
const outcomes = createOutcomeQueue({
  connection: redis,
  prefix,
  queueName: location.outcomesQueue,
  requestsQueueName: location.requestsQueue,
  retentionSeconds: 600,
  idempotencyRetentionSeconds: 600,
});
const log = createRedisOutcomeLog({ connection: redis, location });
let db: TestDatabase | undefined;
const pools: HistoryPool[] = [];
afterAll(async () => {
  for (const p of pools) await p.end().catch(() => {});
  await db?.drop();
  await outcomes.close();
  await log.close();
  await deletePrefix(redis, prefix);
  redis.disconnect();
});

it("records every published event once, in log order, with two deliverers taking turns", async () => {
  db = await createTestDatabase();
  await Promise.all([migrateHistory(db.url), migrateHistory(db.url)]);
  const total = 120;
  for (let n = 0; n < total / 2; n++) await outcomes.publish(accepted(n) as unknown as OutcomeEvent);

  const stop = new AbortController();
  const runs = ["deliver-a", "deliver-b"].map((holder) => {
    const pool = createHistoryPool(db!.url, { max: 2 });
    pools.push(pool);
    // One of them fails every third batch at first: runSink hands it again.
    let calls = 0;
    const sink = createHistorySink(pool);
    const flaky = {
      name: sink.name,
      handle: async (events: Parameters<typeof sink.handle>[0]) => {
        if (holder === "deliver-a" && ++calls % 3 === 1 && calls < 10) throw new Error("PostgreSQL hiccup");
        await sink.handle(events);
      },
    };
    return runSink(log, flaky, {
      holder,
      signal: stop.signal,
      batchSize: 7,
      blockMs: 100,
      leaseMs: 600,
      retryDelayMs: 50,
    });
  });
  for (let n = total / 2; n < total; n++) await outcomes.publish(accepted(n) as unknown as OutcomeEvent);

  const pool = pools[0]!;
  await waitFor(
    async () => (await pool.query("SELECT count(*)::int AS n FROM history_event")).rows[0].n === total,
    60_000,
    "every event in the history",
  );
  stop.abort();
  await Promise.all(runs);
  const rows = await queryHistory(pool, {}, 1000);
  expect(rows.map((r) => r.eventId)).toEqual(Array.from({ length: total }, (_, n) => `evt-${n}`));
  expect(await verifyHistory(pool)).toMatchObject({ ok: true, checked: total });
}, 120_000);
