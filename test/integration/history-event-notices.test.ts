/**
 * The intake's history (app/event-notices.ts): an Accepted event for a held invitation closes it
 * and, through the outcome log and a `deliver` history sink run, leaves a history row; a Partner
 * Connection Cancelled event leaves a history row and the drift report names the connection. Real
 * Redis, real PostgreSQL (its own database, dropped after).
 */
import type { Redis } from "ioredis";
import { afterAll, expect, it } from "vitest";
import { noticedHistory } from "../../src/app/event-notices.js";
import { ingestHeldOf } from "../../src/app/held.js";
import { runSink } from "../../src/delivery/event-sink.js";
import { findDrift } from "../../src/history/drift.js";
import { createHistorySink } from "../../src/history/history-sink.js";
import { migrateHistory } from "../../src/history/migrate.js";
import { createHistoryPool, type HistoryPool } from "../../src/history/pool.js";
import { createLogger } from "../../src/observability/logger.js";
import { handleEvent, type IngestPorts } from "../../src/producer/ingest-event.js";
import { readPartnerEventValue } from "../../src/schemas/partnercentral-events.js";
import { createRedis } from "../../src/store/redis/connection.js";
import { createRedisHeldStore } from "../../src/store/redis/held.js";
import { createRedisOutcomeLog } from "../../src/store/redis/outcome-log.js";
import { createTestDatabase, type TestDatabase } from "../helpers/postgres.js";
import { deletePrefix, REDIS_URL, uniquePrefix } from "../helpers/redis.js";
import { waitFor } from "../helpers/wait.js";

const redis = createRedis(REDIS_URL) as Redis;
const prefix = uniquePrefix("history-notices");
const location = { prefix, requestsQueue: "accept-invitation", outcomesQueue: "invitation-outcomes" };
const store = createRedisHeldStore({ connection: redis, location, outcomeRetentionSeconds: 600 });
const log = createRedisOutcomeLog({ connection: redis, location });
let db: TestDatabase | undefined;
let pool: HistoryPool | undefined;
afterAll(async () => {
  await pool?.end().catch(() => {});
  await db?.drop();
  await store.close();
  await log.close();
  await deletePrefix(redis, prefix);
  redis.disconnect();
});

const unused = () => {
  throw new Error("not used by these events");
};

function event(id: string, detailType: string, detail: Record<string, unknown>) {
  const reading = readPartnerEventValue({
    version: "1",
    id,
    "detail-type": detailType,
    source: "aws.partnercentral-account",
    time: "2026-12-08T01:00:00Z",
    account: "111122223333",
    detail: { catalog: "Sandbox", ...detail },
  });
  if (!reading.ok) throw new Error(reading.problem);
  return reading.event;
}

it("Accepted for a held invitation and Partner Connection Cancelled reach " +
  "the history; drift names the canceled one", async () => {
  db = await createTestDatabase();
  await migrateHistory(db.url);
  pool = createHistoryPool(db.url, { max: 2 });
  const logger = createLogger({ level: "silent" });
  const held = ingestHeldOf({ store, expiryNoticeMs: 60_000 }, "policy-h");
  const ports = {
    policy: undefined,
    enqueueMany: unused,
    preview: unused,
    cancel: unused,
    ends: undefined,
    endsTtlSeconds: 60,
    held,
    history: noticedHistory(store, logger, "policy-h"),
  } as unknown as IngestPorts;

  const identifier = "pacinv-HELDACCEPTED1";
  await held.hold({
    catalog: "Sandbox",
    identifier,
    otherParticipantIdentifier: "sender-profile",
    connectionType: "OPPORTUNITY_COLLABORATION",
    inviterEmail: null,
    senderCompanyName: null,
    expiresAt: null,
    rule: null,
    eventId: "ev-received",
  });
  const accepted = event("ev-accepted-1", "Partner Connection Invitation Accepted", {
    connectionInvitation: { id: identifier, senderProfileId: "sender-profile" },
  });
  const first = await handleEvent(ports, accepted);
  expect(first).toMatchObject({ result: "closed", closedHeld: true });
  expect((await store.getHeld({ catalog: "Sandbox", identifier }))?.state).not.toBe("held");

  const canceled = event("ev-conn-canceled-1", "Partner Connection Cancelled", {
    connection: {
      id: "conn-OTHERSIDE01",
      canceledBy: "444455556666",
      Participant1AccountId: "111122223333",
      Participant2AccountId: "444455556666",
    },
  });
  await handleEvent(ports, canceled);
  await handleEvent(ports, canceled); // a repeated event: one entry

  const stop = new AbortController();
  const run = runSink(log, createHistorySink(pool), {
    holder: "deliver-a",
    signal: stop.signal,
    batchSize: 10,
    blockMs: 100,
    leaseMs: 2_000,
    retryDelayMs: 50,
  });
  try {
    await waitFor(
      async () =>
        (await pool!.query("SELECT count(*)::int AS n FROM history_event WHERE type LIKE '%.%'")).rows[0].n >= 2,
      60_000,
    );
  } finally {
    stop.abort();
    await run.catch(() => {});
  }
  const rows = (
    await pool.query<{
      type: string;
      catalog: string;
      identifier: string | null;
      partner: string | null;
      connection_id: string | null;
    }>(
      "SELECT type, catalog, identifier, partner, connection_id FROM " +
        "history_event WHERE type <> 'invitation.held' ORDER BY seq",
    )
  ).rows;
  expect(rows).toEqual([
    {
      type: "invitation.accepted-elsewhere",
      catalog: "Sandbox",
      identifier,
      partner: "sender-profile",
      connection_id: null,
    },
    {
      type: "connection.canceled",
      catalog: "Sandbox",
      identifier: null,
      partner: "444455556666",
      connection_id: "conn-OTHERSIDE01",
    },
  ]);

  // AWS lists nothing active: the drift report still names the connection the events said was canceled.
  const api = {
    listConnections: async () => ({ connections: [] }),
    getConnection: unused,
  } as unknown as Parameters<typeof findDrift>[0];
  const report = await findDrift(api, pool, { catalog: "Sandbox" });
  expect(report.canceledNoted).toEqual([
    expect.objectContaining({ connectionId: "conn-OTHERSIDE01", partner: "444455556666", canceledBy: "444455556666" }),
  ]);
}, 120_000);
