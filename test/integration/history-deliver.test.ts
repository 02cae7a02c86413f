/**
 * `deliver` with DATABASE_URL (app/deliver.ts startDeliver): migrates at start and runs the history
 * sink beside the webhooks' one; every published outcome reaches PostgreSQL once.
 */
import type { Redis } from "ioredis";
import { afterAll, expect, it } from "vitest";
import { startDeliver } from "../../src/app/deliver.js";
import { loadConfig } from "../../src/config/load-config.js";
import type { OutcomeEvent } from "../../src/contracts/outcome.js";
import { createHistoryPool, type HistoryPool } from "../../src/history/pool.js";
import { verifyHistory } from "../../src/history/verify.js";
import { createLogger } from "../../src/observability/logger.js";
import { createRedis } from "../../src/store/redis/connection.js";
import { createOutcomeQueue } from "../../src/store/redis/publish.js";
import { accepted } from "../helpers/history-events.js";
import { createTestDatabase, type TestDatabase } from "../helpers/postgres.js";
import { deletePrefix, REDIS_URL, uniquePrefix } from "../helpers/redis.js";
import { waitFor } from "../helpers/wait.js";

const redis = createRedis(REDIS_URL) as Redis;
const prefix = uniquePrefix("history-deliver");
let db: TestDatabase | undefined;
let pool: HistoryPool | undefined;
afterAll(async () => {
  await pool?.end();
  await db?.drop();
  await deletePrefix(redis, prefix);
  redis.disconnect();
});

it("migrates at start and records every published outcome once", async () => {
  db = await createTestDatabase();
  const config = loadConfig({}, { REDIS_URL, QUEUE_PREFIX: prefix, DATABASE_URL: db.url, LOG_LEVEL: "silent" });
  const outcomes = createOutcomeQueue({
    connection: redis,
    prefix,
    queueName: config.OUTCOMES_QUEUE,
    requestsQueueName: config.REQUESTS_QUEUE,
    retentionSeconds: 600,
    idempotencyRetentionSeconds: 600,
  });
  for (let n = 0; n < 20; n++) await outcomes.publish(accepted(n) as unknown as OutcomeEvent);
  const [a, b] = await Promise.all([
    startDeliver(config, createLogger({ level: "silent" }), { pollMs: 100 }),
    startDeliver(config, createLogger({ level: "silent" }), { pollMs: 100 }),
  ]);
  try {
    for (let n = 20; n < 40; n++) await outcomes.publish(accepted(n) as unknown as OutcomeEvent);
    pool = createHistoryPool(db.url);
    await waitFor(
      async () => (await pool!.query("SELECT count(*)::int AS n FROM history_event")).rows[0].n === 40,
      60_000,
      "40 events in the history",
    );
    expect(await verifyHistory(pool)).toMatchObject({ ok: true, checked: 40 });
  } finally {
    await a.stop();
    await b.stop();
    await outcomes.close();
  }
}, 120_000);
