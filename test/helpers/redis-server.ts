import { spawn, type ChildProcess } from "node:child_process";
import { Redis } from "ioredis";
import { freePort } from "./net.js";
import { waitFor } from "./wait.js";

export interface OwnRedis {
  port: number;
  url: string;
  /** A plain client (with the password, when there is one); disconnected by stop(). */
  admin: Redis;
  /** SIGKILL, waits for the exit; idempotent. */
  stop(): Promise<void>;
}

/**
 * A throw-away redis-server of the test's own (never the shared one), on a free port, without
 * persistence. `args` are extra redis-server options (`--maxmemory 2mb`, `--requirepass x`).
 */
export async function startRedisServer(options: { port?: number; args?: string[]; password?: string } = {}): Promise<OwnRedis> {
  const port = options.port ?? (await freePort());
  const args = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no", ...(options.args ?? [])];
  if (options.password) args.push("--requirepass", options.password);
  const child: ChildProcess = spawn("redis-server", args, { stdio: "ignore" });
  const admin = new Redis(port, "127.0.0.1", { lazyConnect: true, maxRetriesPerRequest: null, ...(options.password ? { password: options.password } : {}) });
  admin.on("error", () => {});
  await waitFor(
    async () => {
      const probe = new Redis(port, "127.0.0.1", { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0, ...(options.password ? { password: options.password } : {}) });
      probe.on("error", () => {});
      try {
        await probe.connect();
        return (await probe.ping()) === "PONG";
      } catch {
        return false;
      } finally {
        probe.disconnect();
      }
    },
    10_000,
    `redis-server on ${port}`,
  );
  await admin.connect();
  let stopped = false;
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    admin,
    async stop() {
      if (stopped) return;
      stopped = true;
      admin.disconnect();
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGKILL");
      await exited;
    },
  };
}

const limitsBeforeFill = new WeakMap<Redis, string>();

/**
 * Fills Redis with `fill:*` strings until it refuses writes (maxmemory reached, noeviction), then
 * lowers maxmemory 512 KB below what it uses, so that memory freed afterwards (client buffers,
 * lazy frees) cannot let a write through by chance. unfill restores the limit.
 */
export async function fillUntilFull(admin: Redis): Promise<void> {
  const value = "x".repeat(4096);
  for (let i = 0; i < 100_000; i++) {
    try {
      await admin.set(`fill:${i}`, value);
    } catch (err) {
      if (!/OOM/.test((err as Error).message)) throw err;
      const [, limit] = (await admin.config("GET", "maxmemory")) as [string, string];
      if (!limitsBeforeFill.has(admin)) limitsBeforeFill.set(admin, limit);
      const used = Number(/used_memory:(\d+)/.exec(await admin.info("memory"))?.[1]);
      await admin.config("SET", "maxmemory", String(Math.max(1, Math.min(Number(limit), used - 512 * 1024))));
      return;
    }
  }
  throw new Error("Redis never filled up: is --maxmemory set?");
}

/** Frees what fillUntilFull wrote and restores the limit it lowered. */
export async function unfill(admin: Redis): Promise<void> {
  const limit = limitsBeforeFill.get(admin);
  if (limit !== undefined) {
    await admin.config("SET", "maxmemory", limit);
    limitsBeforeFill.delete(admin);
  }
  const keys = await admin.keys("fill:*");
  for (let i = 0; i < keys.length; i += 500) await admin.del(...keys.slice(i, i + 500));
}

/** Makes the server full at once (noeviction, maxmemory below what it uses now): every write that needs memory is refused with OOM. */
export async function fillUp(admin: Redis): Promise<void> {
  await admin.config("SET", "maxmemory-policy", "noeviction");
  const used = Number(/used_memory:(\d+)/.exec(await admin.info("memory"))?.[1]);
  await admin.config("SET", "maxmemory", String(Math.max(1, used - 1024 * 1024)));
}

/** Room again after fillUp (no memory limit). */
export async function makeRoom(admin: Redis): Promise<void> {
  await admin.config("SET", "maxmemory", "0");
}
