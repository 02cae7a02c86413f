import { fileURLToPath } from "node:url";
import { runner } from "node-pg-migrate";
import pg from "pg";

/** The migrations: SQL files beside this module (copied into dist/ by `npm run build`). */
export const MIGRATIONS_DIR = fileURLToPath(new URL("./migrations/", import.meta.url));

/** The table node-pg-migrate records applied migrations in. */
export const MIGRATIONS_TABLE = "pc_invitations_migrations";

export interface MigrateOptions {
  /**
   * Longest wait for another process's migration (the advisory lock) and for each statement, ms. @defaultValue 60000
   */
  timeoutMs?: number;
  /** Told the name of each migration applied. */
  onApplied?: (name: string) => void;
}

/**
 * Brings the history's tables up to date with node-pg-migrate, in one transaction. Several
 * processes may call it at once (each `deliver` does at start): node-pg-migrate's advisory lock
 * makes the others wait (advisoryLockMode "wait", bounded by timeoutMs as a statement_timeout) and
 * then find nothing left to do. Resolves to the names applied (none when up to date).
 * @throws when PostgreSQL cannot be reached or a migration fails (nothing applied then)
 */
export async function migrateHistory(databaseUrl: string, options: MigrateOptions = {}): Promise<string[]> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const client = new pg.Client({
    connectionString: databaseUrl,
    connectionTimeoutMillis: Math.min(timeoutMs, 10_000),
    statement_timeout: timeoutMs,
    query_timeout: timeoutMs + 5_000,
    application_name: "pc-invitations migrate",
  });
  client.on("error", () => {
    // A connection lost mid-run fails the pending query; nothing to add here.
  });
  await client.connect();
  try {
    const silent = () => {};
    const applied = await runner({
      dbClient: client,
      dir: MIGRATIONS_DIR,
      migrationsTable: MIGRATIONS_TABLE,
      direction: "up",
      count: Number.POSITIVE_INFINITY,
      checkOrder: true,
      singleTransaction: true,
      advisoryLockMode: "wait",
      logger: { debug: silent, info: silent, warn: silent, error: silent },
    });
    for (const m of applied) options.onApplied?.(m.name);
    return applied.map((m) => m.name);
  } finally {
    await client.end().catch(() => {});
  }
}
