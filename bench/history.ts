/**
 * History writes against the outcomes they record (issue 21): can the history sink keep up with
 * outcomes at ten times the API's ceiling? Each run, on a database of its own (DATABASE_ADMIN_URL,
 * default the local server's `postgres` database), back to back:
 *   - history: appendEvents (the sink `deliver` runs) in batches of BENCH_BATCH events (runSink's
 *     default 100), each batch one transaction under the advisory lock, chained by SHA-256;
 *   - bare: the same events into a plain table with the same columns, one multi-row INSERT per
 *     batch (no lock, no hash, no duplicate check): the floor of what PostgreSQL takes;
 *   - bare, row by row: a loop of single-row INSERTs (autocommit), for scale.
 * Reports events/s of each, the ratio history / bare (same batches), and history / (10 × ceiling).
 * Prints JSON and writes bench/results/history.json. Nothing asserts on time.
 *   BENCH_EVENTS (5000), BENCH_BATCH (100), BENCH_RUNS (3), BENCH_CEILING_RPS (200: the ceiling
 *   docs/rate-limits.md measures at; RATE_LIMIT_RPS's default is 5).
 */
import { randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import pg from "pg";
import { appendEvents } from "../src/history/append.js";
import { migrateHistory } from "../src/history/migrate.js";
import { createHistoryPool } from "../src/history/pool.js";
import { envInt, envString, repoRoot, round, sourceInfo, spread, writeResult } from "./common.js";

const EVENTS = envInt("BENCH_EVENTS", 5000, 1);
const BATCH = envInt("BENCH_BATCH", 100, 1);
const RUNS = envInt("BENCH_RUNS", 3, 1);
const CEILING = envInt("BENCH_CEILING_RPS", 200, 1);
const ADMIN = envString("DATABASE_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres");

function event(run: number, n: number): Record<string, unknown> {
  const id = `pacinv-${String(n).padStart(13, "0")}`;
  return {
    schemaVersion: 1,
    eventId: `bench-${run}-${n}`,
    requestId: `AWS.${id}.b${run}`,
    action: "accept",
    correlationId: `c-${n}`,
    metadata: { crm: "0061x" },
    catalog: "AWS",
    identifier: id,
    clientToken: randomBytes(32).toString("base64url"),
    attempts: 1,
    enqueuedAt: new Date().toISOString(),
    completedAt: new Date().toISOString(),
    type: "accepted",
    alreadyAccepted: false,
    connection: {
      Id: `pac-${String(n).padStart(13, "0")}`,
      Arn: `arn:aws:partnercentral:us-east-1::catalog/AWS/connection/pac-${n}`,
      Catalog: "AWS",
      OtherParticipantAccountId: "123456789012",
      UpdatedAt: new Date().toISOString(),
      ConnectionTypes: {
        OPPORTUNITY_COLLABORATION: {
          CreatedAt: new Date().toISOString(),
          InviterEmail: "a@b.com",
          InviterName: "Alice",
          Status: "ACTIVE",
          OtherParticipant: { PartnerProfile: { Id: "pprofile-ABCDEFGHIJKLM", Name: "Acme" } },
        },
      },
    },
    awsRequestId: randomBytes(16).toString("hex"),
  };
}

const BARE_TABLE = `CREATE TABLE bare_event (seq bigserial PRIMARY KEY, event_id text NOT NULL, type text NOT NULL,
  request_id text, catalog text, identifier text, partner text, connection_id text, occurred_at timestamptz NOT NULL,
  body text NOT NULL)`;

async function main(): Promise<void> {
  const name = `pci_bench_${randomBytes(4).toString("hex")}`;
  const admin = new pg.Client({ connectionString: ADMIN });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const url = Object.assign(new URL(ADMIN), { pathname: `/${name}` }).toString();
  const pool = createHistoryPool(url, { max: 2 });
  const history: number[] = [];
  const bare: number[] = [];
  const rowByRow: number[] = [];
  try {
    await migrateHistory(url);
    await pool.query(BARE_TABLE);
    for (let run = 0; run < RUNS; run++) {
      const events = Array.from({ length: EVENTS }, (_, n) => event(run, n));
      const batches = Array.from({ length: Math.ceil(EVENTS / BATCH) }, (_, b) =>
        events.slice(b * BATCH, (b + 1) * BATCH),
      );

      let t = performance.now();
      for (const batch of batches) await appendEvents(pool, batch);
      history.push(EVENTS / ((performance.now() - t) / 1000));

      t = performance.now();
      for (const batch of batches) {
        await pool.query(
          "INSERT INTO bare_event (event_id, type, request_id, catalog, " +
            "identifier, partner, connection_id, occurred_at, body) " +
            "SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], " +
            "$5::text[], $6::text[], $7::text[], $8::timestamptz[], $9::text[])",
          [
            batch.map((e) => e.eventId),
            batch.map((e) => e.type),
            batch.map((e) => e.requestId),
            batch.map((e) => e.catalog),
            batch.map((e) => e.identifier),
            batch.map(() => "123456789012"),
            batch.map((e) => (e.connection as { Id: string }).Id),
            batch.map((e) => e.completedAt),
            batch.map((e) => JSON.stringify(e)),
          ],
        );
      }
      bare.push(EVENTS / ((performance.now() - t) / 1000));

      const few = events.slice(0, Math.min(EVENTS, 1000));
      t = performance.now();
      for (const e of few) {
        await pool.query(
          "INSERT INTO bare_event (event_id, type, request_id, catalog, " +
            "identifier, partner, connection_id, occurred_at, body) VALUES " +
            "($1,$2,$3,$4,$5,$6,$7,$8,$9)",
          [
            e.eventId,
            e.type,
            e.requestId,
            e.catalog,
            e.identifier,
            "123456789012",
            (e.connection as { Id: string }).Id,
            e.completedAt,
            JSON.stringify(e),
          ],
        );
      }
      rowByRow.push(few.length / ((performance.now() - t) / 1000));
    }
  } finally {
    await pool.end();
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
  const ratios = history.map((h, i) => h / bare[i]!);
  const target = 10 * CEILING;
  await writeResult("history.json", {
    bench: "history",
    at: new Date().toISOString(),
    source: sourceInfo(repoRoot()),
    postgres: "shared server of the machine kind (PostgreSQL 15, 127.0.0.1:5432)",
    events: EVENTS,
    batch: BATCH,
    runs: RUNS,
    ceilingRps: CEILING,
    targetEventsPerSecond: target,
    historyEventsPerSecond: spread(history),
    bareBatchedInsertEventsPerSecond: spread(bare),
    bareRowByRowInsertEventsPerSecond: spread(rowByRow),
    ratioHistoryToBareBatched: spread(ratios.map((r) => round(r, 3))),
    historyToTarget: round(spread(history).median / target, 2),
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`bench history: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
