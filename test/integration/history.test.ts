/**
 * The history in PostgreSQL (src/history, docs/history.md) on the real server of this machine kind:
 * each test file has databases of its own, dropped at the end.
 */
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appendEvents } from "../../src/history/append.js";
import { GENESIS_HASH } from "../../src/history/chain.js";
import { createHistorySink } from "../../src/history/history-sink.js";
import { migrateHistory, MIGRATIONS_TABLE } from "../../src/history/migrate.js";
import { createHistoryPool, type HistoryPool } from "../../src/history/pool.js";
import { queryHistory, streamHistory } from "../../src/history/query.js";
import { applyRetention } from "../../src/history/retention.js";
import { verifyHistory } from "../../src/history/verify.js";
import { accepted } from "../helpers/history-events.js";
import { createTestDatabase, type TestDatabase } from "../helpers/postgres.js";

const dbs: TestDatabase[] = [];
const pools: HistoryPool[] = [];
async function freshHistory(): Promise<{ db: TestDatabase; pool: HistoryPool; admin: pg.Client }> {
  const db = await createTestDatabase();
  dbs.push(db);
  await migrateHistory(db.url);
  const pool = createHistoryPool(db.url);
  pools.push(pool);
  const admin = new pg.Client({ connectionString: db.url });
  await admin.connect();
  admins.push(admin);
  return { db, pool, admin };
}
const admins: pg.Client[] = [];
afterAll(async () => {
  for (const a of admins) await a.end().catch(() => {});
  for (const p of pools) await p.end().catch(() => {});
  for (const d of dbs) await d.drop();
});

describe("migrations (node-pg-migrate)", () => {
  it("apply once however many processes start at once, and again finds nothing to do", async () => {
    const db = await createTestDatabase();
    dbs.push(db);
    const runs = await Promise.all([1, 2, 3, 4].map(() => migrateHistory(db.url)));
    expect(runs.flat()).toEqual(["0001_history"]);
    expect(await migrateHistory(db.url)).toEqual([]);
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    try {
      const applied = await c.query(`SELECT name FROM ${MIGRATIONS_TABLE}`);
      expect(applied.rows).toEqual([{ name: "0001_history" }]);
    } finally {
      await c.end();
    }
  });
});

describe("appendEvents", () => {
  let pool: HistoryPool;
  let admin: pg.Client;
  beforeAll(async () => ({ pool, admin } = await freshHistory()));

  it("records each event id once, however often it is delivered, and chains every row", async () => {
    const events = [1, 2, 3, 4, 5].map((n) => accepted(n));
    expect(await appendEvents(pool, events)).toEqual({ inserted: 5, duplicates: 0, invalid: 0 });
    // Redelivered: alone, mixed with new ones, repeated within a batch.
    expect(await appendEvents(pool, events)).toEqual({ inserted: 0, duplicates: 5, invalid: 0 });
    expect(await appendEvents(pool, [accepted(2), accepted(6), accepted(6), { no: "id" }])).toEqual({
      inserted: 1,
      duplicates: 2,
      invalid: 1,
    });
    const rows = await admin.query("SELECT seq, event_id, prev_hash, hash FROM history_event ORDER BY seq");
    expect(rows.rows.map((r) => r.event_id)).toEqual(["evt-1", "evt-2", "evt-3", "evt-4", "evt-5", "evt-6"]);
    expect(rows.rows.map((r) => Number(r.seq))).toEqual([1, 2, 3, 4, 5, 6]);
    expect(rows.rows[0].prev_hash).toBe(GENESIS_HASH);
    for (let i = 1; i < rows.rows.length; i++) expect(rows.rows[i].prev_hash).toBe(rows.rows[i - 1].hash);
    expect((await verifyHistory(pool)).ok).toBe(true);
  });

  it("reads the columns of an event: partner, connection, the decision, the AWS request id", async () => {
    await appendEvents(pool, [
      accepted(7, { decidedBy: "alice", heldBy: { rule: 2, policyHash: "sha256:abc" } }),
      {
        schemaVersion: 1,
        eventId: "notice:held:AWS.pacinv-0000000000008",
        type: "invitation.held",
        catalog: "AWS",
        identifier: "pacinv-0000000000008",
        otherParticipant: "999988887777",
        rule: null,
        policyHash: "sha256:def",
        at: "2026-12-01T11:00:00.000Z",
      },
    ]);
    const [decided] = await queryHistory(pool, { identifier: "pacinv-0000000000007" });
    expect(decided).toMatchObject({
      type: "accepted",
      decidedBy: "alice",
      policyRule: 2,
      policyHash: "sha256:abc",
      awsRequestId: "req-7",
      connectionId: "pac-0000000000007",
      partner: "123456789077",
      occurredAt: "2026-12-01T10:00:00.007Z",
    });
    expect(decided?.event).toEqual(accepted(7, { decidedBy: "alice", heldBy: { rule: 2, policyHash: "sha256:abc" } }));
    const [notice] = await queryHistory(pool, { partner: "999988887777" });
    expect(notice).toMatchObject({ type: "invitation.held", policyRule: null, policyHash: "sha256:def" });
  });

  it("refuses UPDATE, DELETE and TRUNCATE (append-only), even to the table's owner", async () => {
    await expect(admin.query("UPDATE history_event SET decided_by = 'mallory' WHERE seq = 1")).rejects.toThrow(
      /append-only/,
    );
    await expect(admin.query("DELETE FROM history_event WHERE seq = 2")).rejects.toThrow(/append-only/);
    await expect(admin.query("TRUNCATE history_event")).rejects.toThrow(/append-only/);
    expect((await admin.query("SELECT count(*)::int AS n FROM history_event")).rows[0].n).toBe(8);
  });

  it("serves a query page by page, and streams every row through a cursor", async () => {
    const first = await queryHistory(pool, { type: "accepted" }, 3);
    expect(first.map((r) => r.seq)).toEqual([1, 2, 3]);
    const next = await queryHistory(pool, { type: "accepted", afterSeq: 3 }, 3);
    expect(next.map((r) => r.seq)).toEqual([4, 5, 6]);
    const newest = await queryHistory(pool, { order: "desc" }, 1);
    expect(newest.map((r) => r.seq)).toEqual([8]);
    const since = await queryHistory(pool, { since: new Date("2026-12-01T10:00:00.005Z") });
    expect(since.map((r) => r.eventId)).toEqual(["evt-5", "evt-6", "evt-7", "notice:held:AWS.pacinv-0000000000008"]);
    const all: number[] = [];
    for await (const r of streamHistory(pool, {}, { batchSize: 2 })) all.push(r.seq);
    expect(all).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });
});

describe("verify", () => {
  it("names the first row a superuser edited with triggers off (session_replication_role = replica)", async () => {
    const { pool, admin } = await freshHistory();
    await appendEvents(
      pool,
      [1, 2, 3, 4, 5, 6].map((n) => accepted(n)),
    );
    expect(await verifyHistory(pool)).toMatchObject({ ok: true, checked: 6, firstBreak: null });

    await admin.query("SET session_replication_role = replica");
    await admin.query("UPDATE history_event SET decided_by = 'mallory' WHERE seq = 4");
    expect((await verifyHistory(pool)).firstBreak).toMatchObject({ seq: 4, eventId: "evt-4", problem: "edited" });
    await admin.query("UPDATE history_event SET decided_by = NULL WHERE seq = 4");
    expect((await verifyHistory(pool)).ok).toBe(true);

    // The event itself edited.
    await admin.query(`UPDATE history_event SET body = replace(body, '"attempts":1', '"attempts":2') WHERE seq = 3`);
    expect((await verifyHistory(pool)).firstBreak).toMatchObject({ seq: 3, problem: "edited" });
    await admin.query(`UPDATE history_event SET body = replace(body, '"attempts":2', '"attempts":1') WHERE seq = 3`);

    // A row removed from the middle, or from the start.
    const saved = (await admin.query("SELECT * FROM history_event WHERE seq = 5")).rows[0];
    await admin.query("DELETE FROM history_event WHERE seq = 5");
    expect((await verifyHistory(pool)).firstBreak).toMatchObject({ seq: 6, problem: "missing" });
    await admin.query(`INSERT INTO history_event SELECT * FROM json_populate_record(NULL::history_event, $1::json)`, [
      JSON.stringify(saved),
    ]);
    expect((await verifyHistory(pool)).ok).toBe(true);

    // A row re-hashed after its edit: the next one no longer chains to it.
    await admin.query("UPDATE history_event SET hash = repeat('a', 64) WHERE seq = 2");
    expect((await verifyHistory(pool)).firstBreak).toMatchObject({ seq: 2, problem: "edited" });
    await admin.query("SET session_replication_role = origin");
  });
});

describe("retention", () => {
  it("removes the oldest rows, keeps the hash the first kept row chains to, and verify still passes", async () => {
    const { pool, admin } = await freshHistory();
    const day = 86_400_000;
    const now = Date.now();
    await appendEvents(
      pool,
      [1, 2, 3].map((n) => accepted(n)),
      () => new Date(now - 40 * day),
    );
    await appendEvents(
      pool,
      [4, 5].map((n) => accepted(n)),
      () => new Date(now - 20 * day),
    );
    await appendEvents(
      pool,
      [6].map((n) => accepted(n)),
      () => new Date(now - 1 * day),
    );
    const hashOf3 = (await admin.query("SELECT hash FROM history_event WHERE seq = 3")).rows[0].hash;

    expect(await applyRetention(pool, 30)).toEqual({ removed: 3, anchor: { seq: 3, hash: hashOf3 } });
    expect(await verifyHistory(pool)).toMatchObject({ ok: true, checked: 3, from: { seq: 3, hash: hashOf3 } });
    expect(await applyRetention(pool, 30)).toMatchObject({ removed: 0 });

    // Writing goes on after the anchor; a redelivered event still present is not written twice.
    await appendEvents(pool, [accepted(6), accepted(7)]);
    expect(await verifyHistory(pool)).toMatchObject({ ok: true, checked: 4 });

    // Everything old: the table empties, the next row chains to the anchor.
    expect((await applyRetention(pool, 0, new Date(now + day))).removed).toBe(4);
    expect((await admin.query("SELECT count(*)::int AS n FROM history_event")).rows[0].n).toBe(0);
    await appendEvents(pool, [accepted(8)]);
    const row = (await admin.query("SELECT seq, prev_hash FROM history_event")).rows[0];
    const anchor = (await admin.query("SELECT seq, hash FROM history_anchor")).rows[0];
    expect(Number(row.seq)).toBe(Number(anchor.seq) + 1);
    expect(row.prev_hash).toBe(anchor.hash);
    expect(await verifyHistory(pool)).toMatchObject({ ok: true, checked: 1 });

    // The anchor cannot be moved back, nor to a hash no row has.
    await expect(admin.query("UPDATE history_anchor SET seq = 1")).rejects.toThrow(/forward/);
    await expect(admin.query("DELETE FROM history_anchor")).rejects.toThrow(/cannot be deleted/);
    await expect(admin.query("DELETE FROM history_event")).rejects.toThrow(/append-only/);
    await expect(admin.query("UPDATE history_anchor SET seq = 8, hash = repeat('b', 64)")).rejects.toThrow(/must name/);
  });
});

describe("several writers at once", () => {
  it("keep one chain: seq gapless, each event once, verify passes", async () => {
    const { db, pool } = await freshHistory();
    const writers = [0, 1, 2, 3].map(() => createHistoryPool(db.url, { max: 2 }));
    pools.push(...writers);
    // Four deliver processes, each handed overlapping batches (every event by two of them).
    await Promise.all(
      writers.map(async (w, k) => {
        const sink = createHistorySink(w);
        for (let b = 0; b < 25; b++) {
          const from = ((k % 2) * 25 + b) * 4;
          await sink.handle([0, 1, 2, 3].map((i) => ({ event: accepted(from + i) })));
        }
      }),
    );
    const result = await verifyHistory(pool);
    expect(result).toMatchObject({ ok: true, checked: 200, last: { seq: 200 } });
    const distinct = await pool.query("SELECT count(DISTINCT event_id)::int AS n FROM history_event");
    expect(distinct.rows[0].n).toBe(200);
  });
});
