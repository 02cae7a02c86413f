import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { freePort } from "./net.js";
import { waitFor } from "./wait.js";

/** The shared PostgreSQL of this machine kind (trust authentication): `TEST_DATABASE_ADMIN_URL` overrides it. */
export const ADMIN_URL = process.env.TEST_DATABASE_ADMIN_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

export interface TestDatabase {
  url: string;
  name: string;
  /** Drops the database (terminating what is still connected); idempotent. */
  drop(): Promise<void>;
}

function urlWithDatabase(adminUrl: string, name: string): string {
  const u = new URL(adminUrl);
  u.pathname = `/${name}`;
  return u.toString();
}

/** A database of the test's own on the server of `adminUrl`, named pci_test_<random>. */
export async function createTestDatabase(adminUrl = ADMIN_URL): Promise<TestDatabase> {
  const name = `pci_test_${randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 10_000 });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  let dropped = false;
  return {
    url: urlWithDatabase(adminUrl, name),
    name,
    async drop() {
      if (dropped) return;
      dropped = true;
      const c = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 10_000 });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

const PG_BIN = process.env.PG_BIN ?? "/usr/lib/postgresql/15/bin";

export interface OwnPostgres {
  port: number;
  /** postgres://postgres@127.0.0.1:<port>/postgres */
  adminUrl: string;
  /** Stops the server (fast shutdown: connections are cut), waits for the exit. */
  stop(): Promise<void>;
  /** Starts it again on the same port and data. */
  start(): Promise<void>;
  /** Stops it and removes its data directory; idempotent. */
  destroy(): Promise<void>;
}

/**
 * A PostgreSQL server of the test's own (initdb in a temp dir, a free port, trust authentication), for
 * tests that stop and restart it: never the shared one. Run as the `postgres` OS user when the tests
 * run as root (initdb and postgres refuse root).
 */
export async function startPostgresServer(): Promise<OwnPostgres> {
  const dir = mkdtempSync(join(tmpdir(), "pci-pg-"));
  chmodSync(dir, 0o777);
  const data = join(dir, "data");
  // As root, initdb and postgres run as the postgres OS user (they refuse root).
  const user =
    process.getuid?.() === 0
      ? {
          uid: Number(spawnSync("id", ["-u", "postgres"], { encoding: "utf8" }).stdout.trim()),
          gid: Number(spawnSync("id", ["-g", "postgres"], { encoding: "utf8" }).stdout.trim()),
        }
      : {};
  const done = spawnSync(
    join(PG_BIN, "initdb"),
    ["-D", data, "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8"],
    { encoding: "utf8", ...user, cwd: dir },
  );
  if (done.status !== 0) throw new Error(`initdb failed: ${done.stderr}`);
  const port = await freePort();
  const adminUrl = `postgres://postgres@127.0.0.1:${port}/postgres`;
  let child: ChildProcess | undefined;

  const start = async () => {
    const proc = spawn(
      join(PG_BIN, "postgres"),
      [
        "-D",
        data,
        "-p",
        String(port),
        "-c",
        "listen_addresses=127.0.0.1",
        "-c",
        `unix_socket_directories=${dir}`,
        "-c",
        "fsync=off",
      ],
      { stdio: "ignore", cwd: dir, ...user },
    );
    child = proc;
    await waitFor(
      async () => {
        if (proc.exitCode !== null) throw new Error(`postgres exited at start-up (${proc.exitCode})`);
        const c = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 1_000 });
        c.on("error", () => {});
        try {
          await c.connect();
          await c.query("SELECT 1");
          return true;
        } catch {
          return false;
        } finally {
          await c.end().catch(() => {});
        }
      },
      60_000,
      "postgres to answer",
    );
  };
  const stop = async () => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null) return;
    const exited = new Promise((r) => proc.once("exit", r));
    // SIGINT: PostgreSQL's fast shutdown (connections are cut, nothing is lost).
    proc.kill("SIGINT");
    await Promise.race([exited, new Promise((r) => setTimeout(r, 30_000))]);
    if (proc.exitCode === null) {
      proc.kill("SIGKILL");
      await exited;
    }
  };
  await start();
  return {
    port,
    adminUrl,
    stop,
    start,
    async destroy() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
