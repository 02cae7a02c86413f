/**
 * A redis-server of the chaos run's own, on a free port, with AOF in a temp dir: the harness
 * kills, restarts, freezes and fills it, which it must never do to a Redis someone else uses.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readFile, stat, truncate } from "node:fs/promises";
import { createServer } from "node:net";
import { join } from "node:path";
import { Redis } from "ioredis";

export type Fsync = "always" | "everysec";

/** A point in the AOF: the file Redis was appending to, its size then, and when (ms). */
export interface AofPosition {
  file: string;
  size: number;
  at: number;
}

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const { port } = srv.address() as { port: number };
  await new Promise((r) => srv.close(r));
  return port;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class ChaosRedis {
  private proc: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private frozen = false;

  private constructor(
    readonly port: number,
    private readonly dir: string,
  ) {}

  static async start(dir: string, fsync: Fsync = "everysec"): Promise<ChaosRedis> {
    const r = new ChaosRedis(await freePort(), dir);
    await r.spawn(fsync);
    return r;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.proc?.pid;
  }

  /** Starts redis-server on the same port and dir (so it loads the AOF) and waits until it has loaded. */
  async spawn(fsync: Fsync, options: { maxmemoryBytes?: number } = {}): Promise<void> {
    const args = [
      "--port",
      String(this.port),
      "--bind",
      "127.0.0.1",
      "--dir",
      this.dir,
      "--appendonly",
      "yes",
      "--appendfsync",
      fsync,
      "--save",
      "",
      "--maxmemory-policy",
      "noeviction",
      "--logfile",
      join(this.dir, "redis.log"),
      ...(options.maxmemoryBytes !== undefined ? ["--maxmemory", String(options.maxmemoryBytes)] : []),
    ];
    const proc = spawn("redis-server", args, { stdio: "ignore" });
    this.proc = proc;
    this.exited = new Promise((r) => proc.once("exit", () => r()));
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (proc.exitCode !== null)
        throw new Error(`redis-server exited with ${proc.exitCode}; see ${join(this.dir, "redis.log")}`);
      const probe = new Redis(this.port, "127.0.0.1", {
        lazyConnect: true,
        retryStrategy: () => null,
        maxRetriesPerRequest: 0,
        enableReadyCheck: false,
      });
      probe.on("error", () => {});
      try {
        await probe.connect();
        const info = await probe.info("persistence");
        if (/^loading:0/m.test(info)) return;
      } catch {
        // not listening yet, or still loading
      } finally {
        probe.disconnect();
      }
      if (Date.now() > deadline) throw new Error("redis-server did not come up within 30 s");
      await sleep(50);
    }
  }

  /** SIGKILL (no fsync, no goodbye) or SIGTERM (Redis fsyncs its AOF and exits), then waits for the exit. */
  async stop(signal: "SIGKILL" | "SIGTERM"): Promise<void> {
    if (!this.proc || this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    if (this.frozen) this.thaw();
    this.proc.kill(signal);
    await this.exited;
  }

  /** SIGSTOP: the server keeps its sockets but answers nothing; key expiry follows the wall clock. */
  freeze(): void {
    this.proc?.kill("SIGSTOP");
    this.frozen = true;
  }

  thaw(): void {
    this.proc?.kill("SIGCONT");
    this.frozen = false;
  }

  /** The AOF file Redis appends to now (the manifest's last incr file) and its size. */
  async aofTail(): Promise<AofPosition | undefined> {
    const manifest = await readFile(join(this.dir, "appendonlydir", "appendonly.aof.manifest"), "utf8").catch(() => "");
    const file = manifest
      .split("\n")
      .filter((l) => / type i\b/.test(l))
      .map((l) => l.split(" ")[1])
      .at(-1);
    if (!file) return undefined;
    const { size } = await stat(join(this.dir, "appendonlydir", file));
    return { file, size, at: Date.now() };
  }

  /**
   * Cuts the AOF of a stopped server back to an earlier position: what a host crash leaves of a
   * file whose last writes were in the page cache, never fsynced. Returns the bytes dropped, or
   * undefined when Redis has started another file since (a rewrite) and the position means nothing.
   */
  async truncateAof(to: AofPosition): Promise<number | undefined> {
    const now = await this.aofTail();
    if (!now || now.file !== to.file) return undefined;
    await truncate(join(this.dir, "appendonlydir", to.file), to.size);
    return now.size - to.size;
  }

  /** Ends the server whatever state it is in (for cleanup). */
  async destroy(): Promise<void> {
    if (this.frozen) this.thaw();
    if (!this.proc || this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    this.proc.kill("SIGKILL");
    await this.exited;
  }
}
