import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
// BullMQ's internal scripts (a type import, so the dependency is visible to the layering check:
// only the store may read BullMQ's internals).
import type * as BullmqScripts from "bullmq/dist/esm/scripts/index.js";
import type { RedisConnection } from "./connection.js";

/**
 * Lua scripts are files: `<dir>/<file>.lua`, each with a header (KEYS, ARGV, what it returns, the
 * guarantee it keeps). What a reader sees is what Redis runs, but for two kinds of line, replaced
 * where they stand:
 *   --- @include "<name>"          the text of `<dir>/includes/<name>.lua` (itself resolved the same
 *                                  way; each include at most once per script)
 *   --- @include "bullmq:<script>" BullMQ's own script of that name as installed, unchanged, wrapped
 *                                  as `local function bullmq<Script>(KEYS, ARGV) … end`
 * Nothing is filled in at load time. Constants that must agree with the TypeScript side (the
 * record's fields, BullMQ's key count) are written in the file; test/unit/lua-scripts.test.ts
 * fails when they differ.
 */
export interface LuaScript {
  /** The command name it is defined under on each connection (ioredis defineCommand). */
  readonly name: string;
  /** The script as Redis runs it, includes resolved. */
  readonly lua: string;
  /** Where it came from, for errors and tests. */
  readonly path: string;
}

const INCLUDE = /^--- @include "([^"]+)"\s*$/;

// BullMQ's scripts as installed: its CommonJS build (the ESM build's imports have no file
// extensions, which Node's ESM loader refuses). Not a public entry point: the BullMQ layout tests
// (test/integration/guarded-add.test.ts) fail if the layout or a script's interface changes.
const bullmqScripts = createRequire(import.meta.url)("bullmq/dist/cjs/scripts/index.js") as typeof BullmqScripts &
  Record<string, { name: string; content: string; keys: number } | undefined>;

/** BullMQ's installed script `name` (e.g. addStandardJob): its text and key count. */
export function bullmqScript(name: string): { content: string; keys: number } {
  const script = bullmqScripts[name];
  if (!script) throw new Error(`BullMQ has no script named ${name} (installed version changed?)`);
  return script;
}

/** Loads `<dir>/<file>.lua` as the command `name`, includes resolved. */
export function loadLuaScript(dir: URL, file: string, name: string): LuaScript {
  const path = new URL(`${file}.lua`, dir);
  return { name, lua: resolve(dir, readFileSync(path, "utf8"), new Set(), `${file}.lua`), path: path.pathname };
}

function resolve(dir: URL, text: string, seen: Set<string>, from: string): string {
  return text
    .split("\n")
    .map((line) => {
      const include = INCLUDE.exec(line)?.[1];
      if (include === undefined) return line;
      if (seen.has(include)) return `-- (${include}: included above)`;
      seen.add(include);
      if (include.startsWith("bullmq:")) {
        const script = include.slice("bullmq:".length);
        const fn = `bullmq${script[0]!.toUpperCase()}${script.slice(1)}`;
        return `local function ${fn}(KEYS, ARGV)\n${bullmqScript(script).content}\nend`;
      }
      const body = readFileSync(new URL(`includes/${include}.lua`, dir), "utf8");
      if (body.startsWith("#!")) throw new Error(`${include}.lua (included by ${from}) must not have a shebang`);
      return resolve(dir, body, seen, `${include}.lua`);
    })
    .join("\n");
}

/**
 * Runs `script` on `redis`, defining it there as a command on first use (ioredis sends EVALSHA,
 * and the script's body on NOSCRIPT). `keys` and `args` go as two arrays, which ioredis flattens:
 * a batch's arguments spread into one JavaScript call would overflow the call stack (RangeError)
 * from some 10,000 requests on.
 */
export function runScript(
  redis: RedisConnection,
  script: LuaScript,
  keys: readonly string[],
  args: ReadonlyArray<string | Buffer>,
): Promise<unknown> {
  defineScript(redis, script);
  const client = redis as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
  return client[script.name]!.call(redis, keys.length, keys, args);
}

/**
 * Defines `script` as a command of `redis` (once; safe to call again), so MULTIs and pipelines
 * made from that connection can run it too. `numberOfKeys` fixes the key count (the command then
 * takes keys and arguments as plain parameters); without it the first argument is the key count.
 */
export function defineScript(
  redis: RedisConnection,
  script: LuaScript,
  options: { numberOfKeys?: number; readOnly?: boolean } = {},
): void {
  if (typeof (redis as unknown as Record<string, unknown>)[script.name] === "function") return;
  redis.defineCommand(script.name, {
    lua: script.lua,
    ...(options.numberOfKeys !== undefined ? { numberOfKeys: options.numberOfKeys } : {}),
    ...(options.readOnly ? { readOnly: true } : {}),
  });
}
