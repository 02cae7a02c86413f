/**
 * Reading Redis's append-only file: what a simulated host crash dropped, exactly. Pure: the harness
 * cuts the file (redis-server.ts), this says where the cut really fell and which jobs the dropped
 * part created, so the evaluation can tell a loss the crash explains from one it does not, without
 * judging by clocks.
 *
 * The AOF is a log of commands in RESP (`*<n>\r\n` then n `$<len>\r\n<bytes>\r\n`). A Lua script's
 * or an EXEC's writes are logged as one MULTI … EXEC block. Redis, loading a file cut anywhere
 * (aof-load-truncated, the default), drops a torn last command and an unterminated last block, so
 * what it keeps ends where a whole unit ends (a command outside a block, or a whole block).
 */

/**
 * One command of the file, with where it lies (bytes, end exclusive): its name, its first argument
 * (the key it writes, for the commands that matter here) and, for HSET/HMSET, its field names.
 * Other arguments are skipped undecoded: a 40 MB file is read in well under a second.
 */
export interface AofCommand {
  start: number;
  end: number;
  name: string;
  key: string | undefined;
  fields?: string[];
}

const STAR = 0x2a;
const DOLLAR = 0x24;
const CR = 0x0d;

/**
 * The commands of an AOF file (an incr file: plain RESP, no RDB preamble), in order; `buf` holds
 * the file's bytes from offset `base` on (a whole command starts there), and offsets are the
 * file's. Stops at a torn last command (`tornAt` is where it starts); throws on anything else that
 * is not RESP.
 */
export function parseAof(buf: Buffer, base = 0): { commands: AofCommand[]; tornAt: number | undefined } {
  const commands: AofCommand[] = [];
  /** The decimal after a type byte at `from`, and where the line after it starts; undefined when torn. */
  const header = (from: number): [number, number] | undefined => {
    let n = 0;
    let i = from;
    for (; i < buf.length && buf[i] !== CR; i++) n = n * 10 + (buf[i]! - 0x30);
    return i + 1 < buf.length ? [n, i + 2] : undefined;
  };
  let i = 0;
  while (i < buf.length) {
    const start = i;
    if (buf[i] !== STAR) throw new Error(`not an AOF command at byte ${base + i}`);
    const count = header(i + 1);
    if (!count) return { commands, tornAt: base + start };
    let at = count[1];
    const cmd: AofCommand = { start: base + start, end: 0, name: "", key: undefined };
    for (let k = 0; k < count[0]; k++) {
      if (at >= buf.length) return { commands, tornAt: base + start };
      if (buf[at] !== DOLLAR) throw new Error(`not an AOF bulk string at byte ${base + at}`);
      const len = header(at + 1);
      if (!len || len[1] + len[0] + 2 > buf.length) return { commands, tornAt: base + start };
      const [size, from] = len;
      if (k === 0) cmd.name = buf.toString("latin1", from, from + size).toUpperCase();
      else if (k === 1) {
        cmd.key = buf.toString("utf8", from, from + size);
        if (cmd.name === "HSET" || cmd.name === "HMSET") cmd.fields = [];
      } else if (cmd.fields && k % 2 === 0) cmd.fields.push(buf.toString("utf8", from, from + size));
      at = from + size + 2;
    }
    cmd.end = base + at;
    commands.push(cmd);
    i = at;
  }
  return { commands, tornAt: undefined };
}

/**
 * The largest offset not past `size` where a whole unit ends (a command outside MULTI … EXEC, or
 * an EXEC): cutting there keeps exactly what Redis would load from a file cut at `size`.
 */
export function cleanCut(commands: readonly AofCommand[], size: number): number {
  let cut = 0;
  let inBlock = false;
  for (const c of commands) {
    if (c.end > size) break;
    if (c.name === "MULTI") inBlock = true;
    else if (c.name === "EXEC") inBlock = false;
    if (!inBlock) cut = c.end;
  }
  return cut;
}

/**
 * Ids of the BullMQ jobs that `dropped` creates and `kept` never writes (a job created again after
 * its removal, a revival, existed before the cut): the jobs a cut between the two took away whole.
 * A job is created by BullMQ's storeJob, one HMSET (or HSET) of its hash with `data` and
 * `timestamp`; `keyPrefix` is the queue's key prefix (`<prefix>:<queue>:`).
 */
export function jobsCreatedOnlyIn(
  dropped: readonly AofCommand[],
  kept: readonly AofCommand[],
  keyPrefix: string,
): string[] {
  const touched = new Set<string>();
  for (const c of kept) if (c.key?.startsWith(keyPrefix)) touched.add(c.key);
  const created = new Set<string>();
  for (const c of dropped) {
    if (!c.fields || !c.key?.startsWith(keyPrefix) || touched.has(c.key)) continue;
    const id = c.key.slice(keyPrefix.length);
    if (!id.includes(":") && c.fields.includes("data") && c.fields.includes("timestamp")) created.add(id);
  }
  return [...created];
}
