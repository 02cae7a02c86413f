/**
 * PostgreSQL restarted mid-run loses no event: a server of the test's own (never the shared one) is
 * stopped (fast shutdown, connections cut) and started again while events are handed to the
 * history sink as `deliver` does: a batch that fails is handed again until it is committed.
 */
import { afterAll, expect, it } from "vitest";
import { createHistorySink } from "../../src/history/history-sink.js";
import { migrateHistory } from "../../src/history/migrate.js";
import { createHistoryPool, type HistoryPool } from "../../src/history/pool.js";
import { verifyHistory } from "../../src/history/verify.js";
import { accepted } from "../helpers/history-events.js";
import { createTestDatabase } from "../helpers/postgres.js";
import { startPostgresServer, type OwnPostgres } from "../helpers/postgres.js";
import { waitFor } from "../helpers/wait.js";

let server: OwnPostgres | undefined;
let pool: HistoryPool | undefined;
afterAll(async () => {
  await pool?.end().catch(() => {});
  await server?.destroy();
});

it("keeps every event when PostgreSQL restarts mid-run: verify passes, each event once", async () => {
  server = await startPostgresServer();
  const db = await createTestDatabase(server.adminUrl);
  await migrateHistory(db.url);
  const errors: string[] = [];
  pool = createHistoryPool(db.url, { connectTimeoutMs: 2_000, onError: (e) => errors.push(e.message) });
  const sink = createHistorySink(pool);

  const total = 300;
  let handed = 0;
  let failures = 0;
  const run = (async () => {
    for (let b = 0; b < total / 5; b++) {
      const batch = [0, 1, 2, 3, 4].map((i) => ({ event: accepted(b * 5 + i) }));
      for (let attempt = 0; ; attempt++) {
        try {
          await sink.handle(batch);
          break;
        } catch {
          failures++;
          if (attempt > 400) throw new Error("PostgreSQL never came back");
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      handed += batch.length;
      // Some batches go twice (a deliver that crashed after the commit, before its acknowledgement).
      if (b % 7 === 0) await sink.handle(batch).catch(() => {});
      await new Promise((r) => setTimeout(r, 10));
    }
  })();

  await waitFor(() => handed >= 60, 60_000, "events written before the restart");
  await server.stop();
  await new Promise((r) => setTimeout(r, 1_500));
  await server.start();
  await run;

  expect(failures).toBeGreaterThan(0);
  const count = await pool.query("SELECT count(*)::int AS n, count(DISTINCT event_id)::int AS d FROM history_event");
  expect(count.rows[0]).toEqual({ n: total, d: total });
  expect(await verifyHistory(pool)).toMatchObject({ ok: true, checked: total });
}, 180_000);
