import { spawn, execFile, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { Cluster, Redis } from "ioredis";

const run = promisify(execFile);

export interface RedisCluster {
  /** 127.0.0.1 ports of the masters. */
  ports: number[];
  /** Start-up nodes for `new Cluster(nodes)`. */
  nodes: Array<{ host: string; port: number }>;
  /** A Cluster client with BullMQ's settings (caller disconnects it, or stop() does). */
  connect(): Cluster;
  /** Stops every server (SIGTERM, then SIGKILL) and removes the temp dir; idempotent. */
  stop(): Promise<void>;
}

/** True when redis-server and redis-cli are on PATH (the Cluster tests skip otherwise). */
export async function hasRedisBinaries(): Promise<boolean> {
  try {
    await run("redis-server", ["--version"]);
    await run("redis-cli", ["--version"]);
    return true;
  } catch {
    return false;
  }
}

/** A free TCP port whose cluster bus port (+10000) is free as well. */
async function freeClusterPort(taken: Set<number>): Promise<number> {
  const listen = (port: number) =>
    new Promise<number | undefined>((resolve) => {
      const s = createServer();
      s.once("error", () => resolve(undefined));
      s.listen(port, "127.0.0.1", () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
  for (let i = 0; i < 200; i++) {
    const p = await listen(0);
    if (p === undefined || p + 10_000 > 65_535 || taken.has(p) || taken.has(p + 10_000)) continue;
    if ((await listen(p + 10_000)) !== undefined) return p;
  }
  throw new Error("no free port pair for a Redis Cluster node");
}

async function waitUntil(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (
    !(await check().catch((err: unknown) => {
      if (err instanceof NodeExitedError) throw err;
      return false;
    }))
  ) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A node's redis-server exited before it answered: most often its port was taken meanwhile. */
class NodeExitedError extends Error {}

/**
 * Starts a throw-away 3-master Redis Cluster on free ports in a temp dir (no persistence), creates
 * it with `redis-cli --cluster create … --cluster-replicas 0`, and waits for `cluster_state:ok`
 * on every node. A port found free can be taken by another process before redis-server binds it
 * (other tests and tools start servers on free ports too): a node that exits at start-up makes
 * the whole cluster start again on other ports, up to 3 times.
 */
export async function startRedisCluster(masters = 3): Promise<RedisCluster> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startRedisClusterOnce(masters);
    } catch (err) {
      if (!(err instanceof NodeExitedError) || attempt >= 3) throw err;
    }
  }
}

async function startRedisClusterOnce(masters: number): Promise<RedisCluster> {
  const dir = await mkdtemp(join(tmpdir(), "pci-redis-cluster-"));
  const taken = new Set<number>();
  const ports: number[] = [];
  for (let i = 0; i < masters; i++) {
    const p = await freeClusterPort(taken);
    taken.add(p).add(p + 10_000);
    ports.push(p);
  }
  const servers: ChildProcess[] = [];
  const clients: Cluster[] = [];
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    for (const c of clients) c.disconnect();
    await Promise.all(
      servers.map(
        (s) =>
          new Promise<void>((resolve) => {
            if (s.exitCode !== null || s.signalCode !== null) return resolve();
            const kill = setTimeout(() => s.kill("SIGKILL"), 3000);
            s.once("exit", () => {
              clearTimeout(kill);
              resolve();
            });
            s.kill("SIGTERM");
          }),
      ),
    );
    await rm(dir, { recursive: true, force: true });
  };

  try {
    for (const port of ports) {
      const s = spawn(
        "redis-server",
        [
          "--port",
          String(port),
          "--bind",
          "127.0.0.1",
          "--cluster-enabled",
          "yes",
          "--cluster-config-file",
          join(dir, `nodes-${port}.conf`),
          "--cluster-node-timeout",
          "5000",
          "--save",
          "",
          "--appendonly",
          "no",
          "--dir",
          dir,
          "--maxmemory-policy",
          "noeviction",
        ],
        { stdio: "ignore" },
      );
      servers.push(s);
    }
    for (const [i, port] of ports.entries()) {
      await waitUntil(
        async () => {
          const server = servers[i]!;
          if (server.exitCode !== null || server.signalCode !== null)
            throw new NodeExitedError(
              `redis-server on ${port} exited at start-up (${server.exitCode ?? server.signalCode})`,
            );
          const r = new Redis(port, "127.0.0.1", {
            lazyConnect: true,
            retryStrategy: () => null,
            maxRetriesPerRequest: 0,
            connectTimeout: 2000,
            commandTimeout: 2000,
          });
          r.on("error", () => {});
          try {
            await r.connect();
            return (await r.ping()) === "PONG";
          } finally {
            r.disconnect();
          }
        },
        30_000,
        `redis-server on ${port}`,
      );
    }
    await run(
      "redis-cli",
      ["--cluster", "create", ...ports.map((p) => `127.0.0.1:${p}`), "--cluster-replicas", "0", "--cluster-yes"],
      {
        timeout: 30_000,
      },
    );
    for (const port of ports) {
      await waitUntil(
        async () => {
          const { stdout } = await run("redis-cli", ["-p", String(port), "cluster", "info"]);
          return stdout.includes("cluster_state:ok");
        },
        20_000,
        `cluster_state:ok on ${port}`,
      );
    }
  } catch (err) {
    await stop();
    throw err;
  }

  const nodes = ports.map((port) => ({ host: "127.0.0.1", port }));
  return {
    ports,
    nodes,
    connect() {
      const c = new Cluster(nodes, { redisOptions: { maxRetriesPerRequest: null } });
      clients.push(c);
      return c;
    },
    stop,
  };
}
