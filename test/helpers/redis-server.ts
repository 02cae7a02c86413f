import { spawn, type ChildProcess } from "node:child_process";
import { Redis } from "ioredis";
import { freePort } from "./net.js";
import { waitFor } from "./wait.js";

export interface OwnRedis {
  port: number;
  url: string;
  /** The redis-server process (tests freeze it with SIGSTOP, for one). */
  process: ChildProcess;
  /** A plain client (with the password, when there is one); disconnected by stop(). */
  admin: Redis;
  /** SIGKILL, waits for the exit; idempotent. */
  stop(): Promise<void>;
}

/**
 * A throw-away redis-server of the test's own (never the shared one), on a free port, without
 * persistence. `args` are extra redis-server options (`--maxmemory 2mb`, `--requirepass x`).
 * A port found free may be taken by another process before redis-server binds it (other tests
 * and tools start servers on free ports too): the server is known ours by its process id, and
 * one that exits at start-up is started again on another free port (up to 3 times; not when the
 * caller chose the port).
 */
export async function startRedisServer(
  options: { port?: number; args?: string[]; password?: string } = {},
): Promise<OwnRedis> {
  for (let attempt = 1; ; attempt++) {
    const port = options.port ?? (await freePort());
    const started = await startOn(port, options);
    if (started) return started;
    if (options.port !== undefined || attempt >= 3)
      throw new Error(`redis-server on ${port} exited at start-up (port taken?)`);
  }
}

/** The server on `port`, or undefined when it exited before answering. */
async function startOn(port: number, options: { args?: string[]; password?: string }): Promise<OwnRedis | undefined> {
  const args = [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--save",
    "",
    "--appendonly",
    "no",
    "--daemonize",
    "no",
    ...(options.args ?? []),
  ];
  if (options.password) args.push("--requirepass", options.password);
  const child: ChildProcess = spawn("redis-server", args, { stdio: "ignore" });
  const auth = options.password ? { password: options.password } : {};
  const up = await waitFor(
    async () => {
      if (child.exitCode !== null || child.signalCode !== null) return "exited";
      // Bounded: whatever holds the port may accept and never answer.
      const probe = new Redis(port, "127.0.0.1", {
        lazyConnect: true,
        retryStrategy: () => null,
        maxRetriesPerRequest: 0,
        connectTimeout: 2000,
        commandTimeout: 2000,
        ...auth,
      });
      probe.on("error", () => {});
      try {
        await probe.connect();
        // Ours, not a server someone else started on this port meanwhile.
        return Number(/process_id:(\d+)/.exec(await probe.info("server"))?.[1]) === child.pid ? "up" : undefined;
      } catch {
        return undefined;
      } finally {
        probe.disconnect();
      }
    },
    30_000,
    `redis-server on ${port}`,
  );
  if (up === "exited") return undefined;
  const admin = new Redis(port, "127.0.0.1", { lazyConnect: true, maxRetriesPerRequest: null, ...auth });
  admin.on("error", () => {});
  await admin.connect();
  let stopped = false;
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    process: child,
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

/** Makes the server full at once (noeviction, maxmemory below what it uses now): every write that needs memory is
 * refused with OOM. */
export async function fillUp(admin: Redis): Promise<void> {
  await admin.config("SET", "maxmemory-policy", "noeviction");
  const used = Number(/used_memory:(\d+)/.exec(await admin.info("memory"))?.[1]);
  await admin.config("SET", "maxmemory", String(Math.max(1, used - 1024 * 1024)));
}

/** Room again after fillUp (no memory limit). */
export async function makeRoom(admin: Redis): Promise<void> {
  await admin.config("SET", "maxmemory", "0");
}
