/**
 * `pc-invitations history …` as a process (the built CLI) against a database of its own on the
 * shared PostgreSQL: migrate, list (table, JSON, CSV), export streamed, verify (exit 1 naming the
 * first row edited by a superuser with triggers off), retain, and the usage errors.
 */
import pg from "pg";
import { afterAll, beforeAll, expect, it } from "vitest";
import { appendEvents } from "../../src/history/append.js";
import { createHistoryPool, type HistoryPool } from "../../src/history/pool.js";
import { runCli } from "../helpers/cli.js";
import { accepted } from "../helpers/history-events.js";
import { createTestDatabase, type TestDatabase } from "../helpers/postgres.js";

let db: TestDatabase;
let pool: HistoryPool;
let env: Record<string, string>;
beforeAll(async () => {
  db = await createTestDatabase();
  env = { DATABASE_URL: db.url, LOG_LEVEL: "silent" };
});
afterAll(async () => {
  await pool?.end();
  await db?.drop();
});

it("migrates, lists, exports and verifies; verify exits 1 naming the first edited row", async () => {
  expect(await runCli(["history", "migrate", "--json"], env)).toMatchObject({
    code: 0,
    stdout: '{"applied":["0001_history"]}\n',
  });
  pool = createHistoryPool(db.url);
  await appendEvents(
    pool,
    [1, 2, 3, 4].map((n) => accepted(n, n === 2 ? { decidedBy: 'alice, "ops"' } : {})),
  );

  const table = await runCli(["history", "--table", "--identifier", "pacinv-0000000000002"], env);
  expect(table.code).toBe(0);
  expect(table.stdout).toContain("pacinv-0000000000002");
  expect(table.stdout).toContain("1 row(s)");
  const json = JSON.parse((await runCli(["history", "--since", "2026-12-01T10:00:00.003Z"], env)).stdout);
  expect(json.map((r: { eventId: string }) => r.eventId)).toEqual(["evt-3", "evt-4"]);
  const csv = (await runCli(["history", "--output", "csv", "--partner", "123456789022"], env)).stdout.split("\r\n");
  expect(csv[0]).toMatch(/^seq,occurredAt,/);
  expect(csv[1]).toContain('"alice, ""ops"""');

  const ndjson = await runCli(["history", "export", "--format", "ndjson"], env);
  expect(
    ndjson.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l).seq),
  ).toEqual([1, 2, 3, 4]);
  const exported = await runCli(["history", "export", "--format", "csv", "--type", "accepted"], env);
  expect(exported.stdout.split("\r\n").filter(Boolean)).toHaveLength(5);

  expect(await runCli(["history", "verify", "--json"], env)).toMatchObject({ code: 0 });
  const admin = new pg.Client({ connectionString: db.url });
  await admin.connect();
  try {
    await admin.query("SET session_replication_role = replica");
    await admin.query("UPDATE history_event SET partner = '999999999999' WHERE seq = 3");
  } finally {
    await admin.end();
  }
  const broken = await runCli(["history", "verify", "--table"], env);
  expect(broken.code).toBe(1);
  expect(broken.stdout).toContain("history broken at seq 3 (event evt-3): edited");

  expect(await runCli(["history", "retain", "--days", "30", "--json"], env)).toMatchObject({ code: 0 });
}, 180_000);

it("refuses bad usage in one line (exit 2), and says when PostgreSQL cannot be reached (exit 1)", async () => {
  const unset = await runCli(["history", "verify"], { LOG_LEVEL: "silent", DATABASE_URL: "" });
  expect(unset.code).toBe(2);
  expect(unset.stderr).toContain("DATABASE_URL is not set");
  const badUrl = await runCli(["history"], { LOG_LEVEL: "silent", DATABASE_URL: "mysql://x" });
  expect(badUrl.code).toBe(2);
  expect(badUrl.stderr).toContain("DATABASE_URL: must be a postgres:// or postgresql:// URL");
  const since = await runCli(["history", "--since", "yesterday"], env);
  expect(since).toMatchObject({ code: 2 });
  // the error on one line, then the hint (docs/cli.md)
  expect(since.stderr.trim().split("\n")).toHaveLength(2);
  expect(since.stderr.trim().split("\n")[1]).toMatch(/^Run 'pc-invitations .*--help'/);
  expect((await runCli(["history", "export", "--format", "xml"], env)).code).toBe(2);
  expect((await runCli(["history", "--limit", "5000"], env)).code).toBe(2);
  const down = await runCli(["history", "verify"], {
    LOG_LEVEL: "silent",
    DATABASE_URL: "postgres://postgres@127.0.0.1:1/x",
  });
  expect(down.code).toBe(1);
  expect(down.stderr).toMatch(/PostgreSQL at postgres:\/\/postgres@127\.0\.0\.1:1\/x unreachable/);
}, 120_000);
