import { spawn, type ChildProcess } from "node:child_process";
import { Redis } from "ioredis";
import { freePort } from "./net.js";
import { waitFor } from "./wait.js";

/** A redis-server of a test's own (for tests that fill, pause or restart Redis), on a free port. */
export interface OwnRedis {
  port: number;
  url: string;
  /** An admin connection (CONFIG SET, INFO…), closed by stop(). */
  admin: Redis;
  stop(): Promise<void>;
}

export async function startOwnRedis(args: string[] = []): Promise<OwnRedis> {
  const port = await freePort();
  const child: ChildProcess = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", ...args], {
    stdio: "ignore",
  });
  const admin = new Redis({ port, host: "127.0.0.1", maxRetriesPerRequest: null, lazyConnect: true, retryStrategy: () => 50 });
  admin.on("error", () => undefined);
  await waitFor(async () => (await admin.connect().then(() => admin.ping(), () => undefined)) === "PONG" || undefined, 10_000, "redis-server to start");
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    admin,
    async stop() {
      admin.disconnect();
      child.kill("SIGKILL");
      await new Promise((r) => (child.exitCode !== null ? r(undefined) : child.once("exit", r)));
    },
  };
}

/** Makes the server full (noeviction, maxmemory at what it uses now): every write that needs memory is refused with OOM. */
export async function fillUp(redis: Redis): Promise<void> {
  await redis.config("SET", "maxmemory-policy", "noeviction");
  const used = Number(/used_memory:(\d+)/.exec(await redis.info("memory"))?.[1]);
  await redis.config("SET", "maxmemory", String(Math.max(1, used - 1024 * 1024)));
}

/** Room again. */
export async function makeRoom(redis: Redis): Promise<void> {
  await redis.config("SET", "maxmemory", "0");
}
