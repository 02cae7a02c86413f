/**
 * A redis-server of the chaos run's own, on a free port, with AOF in a temp dir: the harness
 * kills, restarts, freezes and fills it, which it must never do to a Redis someone else uses.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { open, readFile, stat, truncate } from "node:fs/promises";
import { createServer } from "node:net";
import { join } from "node:path";
import { Redis } from "ioredis";
import { type AofCommand, parseAof } from "./aof.js";

export type Fsync = "always" | "everysec";

/**
 * A point in the AOF: the file Redis was appending to, its size then, and when (ms): `at` is taken
 * before the file is looked at, so every write past `size` was made after `at`.
 */
export interface AofPosition {
  file: string;
  size: number;
  at: number;
}

/** A point of a followed AOF, and where the whole units up to it end (a cut there tears nothing). */
export interface FollowedAofPosition extends AofPosition {
  keep: number;
}

/** An AOF cut back: the commands it kept and the ones it dropped (aof.ts jobsCreatedOnlyIn reads them). */
export interface AofCut {
  kept: AofCommand[];
  dropped: AofCommand[];
  /** The bytes cut, kept for whoever investigates the run. */
  droppedBytes: Buffer;
}

/**
 * Follows the AOF Redis appends to, parsing what it adds (aof.ts), so that a cut can fall where a
 * whole command or MULTI … EXEC block ends without reading the whole file while Redis is down.
 * The first position reads the file as it is; each later one what was appended since.
 */
export class AofFollower {
  /** Every whole command parsed so far, in file order. */
  readonly commands: AofCommand[] = [];
  private file: string | undefined;
  private parsedTo = 0;
  private inBlock = false;
  private unitEnd = 0;

  constructor(private readonly redis: ChaosRedis) {}

  async position(): Promise<FollowedAofPosition | undefined> {
    const p = await this.redis.aofTail();
    if (!p) return undefined;
    if (p.file !== this.file) {
      // A new file (a rewrite): start again on it.
      this.file = p.file;
      this.commands.length = 0;
      this.parsedTo = this.unitEnd = 0;
      this.inBlock = false;
    }
    if (p.size > this.parsedTo) {
      const bytes = await readRange(this.redis.aofPath(p.file), this.parsedTo, p.size);
      const { commands, tornAt } = parseAof(bytes, this.parsedTo);
      for (const c of commands) {
        this.commands.push(c);
        if (c.name === "MULTI") this.inBlock = true;
        else if (c.name === "EXEC") this.inBlock = false;
        if (!this.inBlock) this.unitEnd = c.end;
      }
      this.parsedTo = tornAt ?? p.size;
    }
    return { ...p, keep: this.unitEnd };
  }
}

async function readRange(path: string, from: number, to: number): Promise<Buffer> {
  const handle = await open(path, "r");
  try {
    const buf = Buffer.alloc(to - from);
    const { bytesRead } = await handle.read(buf, 0, buf.length, from);
    return buf.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
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
    const at = Date.now();
    const manifest = await readFile(join(this.dir, "appendonlydir", "appendonly.aof.manifest"), "utf8").catch(() => "");
    const file = manifest
      .split("\n")
      .filter((l) => / type i\b/.test(l))
      .map((l) => l.split(" ")[1])
      .at(-1);
    if (!file) return undefined;
    const { size } = await stat(this.aofPath(file));
    return { file, size, at };
  }

  /** The path of an AOF file of this server (a name from the manifest). */
  aofPath(file: string): string {
    return join(this.dir, "appendonlydir", file);
  }

  /**
   * Cuts the AOF of a stopped server back to a followed position, where its whole units end: what
   * a host crash leaves of a file whose last writes were in the page cache, never fsynced. Returns
   * what was kept and what was dropped; undefined when Redis has started another file since (a
   * rewrite) and the position means nothing: nothing is cut.
   */
  async truncateAof(to: FollowedAofPosition, followed: AofFollower): Promise<AofCut | undefined> {
    const now = await this.aofTail();
    if (!now || now.file !== to.file) return undefined;
    const path = this.aofPath(to.file);
    const droppedBytes = await readRange(path, to.keep, now.size);
    await truncate(path, to.keep);
    return {
      kept: followed.commands.filter((c) => c.end <= to.keep),
      dropped: parseAof(droppedBytes, to.keep).commands,
      droppedBytes,
    };
  }

  /** Ends the server whatever state it is in (for cleanup). */
  async destroy(): Promise<void> {
    if (this.frozen) this.thaw();
    if (!this.proc || this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    this.proc.kill("SIGKILL");
    await this.exited;
  }
}
