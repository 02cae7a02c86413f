/**
 * `history drift` against the emulator, over the real SDK and the shared limit: connections AWS
 * lists as active that no event of the history names (made outside the desk), and connections the
 * history recorded that are no longer active, with GetConnection's word on who canceled.
 */
import { afterAll, expect, it } from "vitest";
import { createHistoryDrift } from "../../src/app/history.js";
import { pacingFromConfig, rateLimiterFromConfig } from "../../src/app/from-config.js";
import type { AcceptedOutcome } from "../../src/contracts/outcome.js";
import { appendEvents } from "../../src/history/append.js";
import { migrateHistory } from "../../src/history/migrate.js";
import { createHistoryPool, type HistoryPool } from "../../src/history/pool.js";
import { createRedisOutcomeLog } from "../../src/store/redis/outcome-log.js";
import { waitForOutcomes } from "../helpers/outcomes.js";
import { startPipeline, type Pipeline } from "../helpers/pipeline.js";
import { createTestDatabase, type TestDatabase } from "../helpers/postgres.js";

let p: Pipeline | undefined;
let db: TestDatabase | undefined;
let pool: HistoryPool | undefined;
afterAll(async () => {
  await pool?.end();
  await db?.drop();
  await p?.close();
});

it("lists connections made outside the desk and those in history no longer active, who canceled", async () => {
  p = await startPipeline({ label: "history-drift" });
  db = await createTestDatabase();
  await migrateHistory(db.url);
  pool = createHistoryPool(db.url);

  // The desk accepts four invitations; their outcomes go from the outcome log into the history.
  const seeded = p.emulator.seedInvitations(4, { connectionTypes: ["OPPORTUNITY_COLLABORATION"] });
  await p.producer.enqueueMany(seeded.map((s) => ({ catalog: s.catalog, identifier: s.identifier })));
  const worker = await p.startWorker();
  const events = (await waitForOutcomes(p.redis, p.prefix, 4)) as AcceptedOutcome[];
  await worker.shutdown("test done");
  expect(events.map((e) => e.type)).toEqual(["accepted", "accepted", "accepted", "accepted"]);
  const log = createRedisOutcomeLog({
    connection: p.redis,
    location: { prefix: p.prefix, requestsQueue: p.config.REQUESTS_QUEUE, outcomesQueue: p.config.OUTCOMES_QUEUE },
  });
  const page = await log.readEvents(undefined, 100);
  expect(
    (
      await appendEvents(
        pool,
        page.events.map((e) => e.event),
      )
    ).inserted,
  ).toBe(4);

  // Outside the desk: two invitations accepted in the console.
  const outside = p.emulator.seedInvitations(2, { status: "ACCEPTED" });
  const outsideIds = outside.map((s) => p!.emulator.getInvitation(s.catalog, s.identifier)!.ConnectionId).sort();
  // The other side cancels one of the desk's connections; our own account cancels another.
  const [theirs, ours] = events.map((e) => e.connection!);
  p.emulator.cancelConnection("AWS", theirs!.Id);
  p.emulator.cancelConnection("AWS", ours!.Id, { canceledBy: "000011112222" });

  let acquired = 0;
  const limiter = rateLimiterFromConfig(p.config, p.redis);
  const counted = {
    ...limiter,
    acquire: (...args: Parameters<typeof limiter.acquire>) => {
      acquired++;
      return limiter.acquire(...args);
    },
  };
  const drift = createHistoryDrift({ api: p.api, pacing: pacingFromConfig(p.config, counted), pool });
  const report = await drift({ catalog: "AWS" });

  expect(report.outsideDesk.map((c) => c.connectionId).sort()).toEqual(outsideIds);
  expect(report.listed).toBe(4);
  expect(report.inHistory).toBe(4);
  expect(report.truncated).toBe(false);
  const inactive = Object.fromEntries(report.noLongerActive.map((c) => [c.connectionId, c]));
  expect(Object.keys(inactive).sort()).toEqual([theirs!.Id, ours!.Id].sort());
  expect(inactive[theirs!.Id]).toMatchObject({ status: "CANCELED", canceledByOtherSide: true, catalog: "AWS" });
  expect(inactive[ours!.Id]).toMatchObject({ status: "CANCELED", canceledByOtherSide: false });
  expect(inactive[ours!.Id]!.connectionTypes.OPPORTUNITY_COLLABORATION).toMatchObject({ canceledBy: "000011112222" });
  // Every call went through the shared limit: one ListConnections page, two GetConnection.
  const calls = p.emulator.calls().filter((c) => c.operation === "ListConnections" || c.operation === "GetConnection");
  expect(calls.map((c) => c.operation).sort()).toEqual(["GetConnection", "GetConnection", "ListConnections"]);
  expect(acquired).toBe(3);
}, 120_000);
