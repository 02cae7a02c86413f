/**
 * The Lua scripts are files, and what they hold is what Redis runs (src/store/redis/lua-scripts.ts):
 * the constants they share with the TypeScript side are written in both places, so these tests
 * compare them. A change on one side only fails here, not in production.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { RECORD_FIELDS, RECORD_STATES, requestRecordSchema } from "../../src/request-record/record.js";
import { RATE_LIMIT_SCRIPTS, STATE_FIELDS } from "../../src/ratelimit/scripts.js";
import { BULLMQ_ADD_KEY_COUNT } from "../../src/store/redis/bullmq-add.js";
import { loadLuaScript } from "../../src/store/redis/lua-scripts.js";
import { NEW_RECORD_FIELDS } from "../../src/store/redis/records.js";
import { SCRIPTS } from "../../src/store/redis/scripts.js";

const lua = (path: string) => readFileSync(new URL(`../../src/store/redis/lua/${path}`, import.meta.url), "utf8");
/** The string items of a Lua table constructor `local NAME = { 'a', 'b' }`. */
const luaList = (text: string, name: string) => {
  const body = new RegExp(`local ${name} = \\{([^}]*)\\}`).exec(text)?.[1];
  if (body === undefined) throw new Error(`no table ${name}`);
  return [...body.matchAll(/'([^']*)'/g)].map((m) => m[1]);
};

describe("the store's Lua scripts agree with the TypeScript side", () => {
  const record = lua("includes/record.lua");

  it(
    "reads the record's fields in RECORD_FIELDS order, " + "requires the schema's required fields, knows its states",
    () => {
      expect(luaList(record, "RECORD_FIELDS")).toEqual(RECORD_FIELDS);
      const required = RECORD_FIELDS.filter((f) => !requestRecordSchema.shape[f].safeParse(undefined).success);
      expect(luaList(record, "REQUIRED_RECORD_FIELDS")).toEqual(required);
      const states = /local RECORD_STATES = \{([^}]*)\}/.exec(record)?.[1] ?? "";
      expect([...states.matchAll(/(\w+) = true/g)].map((m) => m[1])).toEqual([...RECORD_STATES]);
    },
  );

  it("writes a new record's fields in NEW_RECORD_FIELDS order", () => {
    const queue = lua("includes/queue-record.lua");
    const hset = /redis\.call\('HSET', key, ([^)]*)\)/s.exec(queue)?.[1] ?? "";
    const names = [...hset.matchAll(/'(\w+)', v\[from(?: \+ (\d))?\]/g)];
    expect(names.map((m) => m[1])).toEqual([...NEW_RECORD_FIELDS]);
    expect(names.map((m) => Number(m[2] ?? 0))).toEqual(NEW_RECORD_FIELDS.map((_, i) => i));
    expect(/local NEW_RECORD_FIELD_COUNT = (\d+)/.exec(queue)?.[1]).toBe(String(NEW_RECORD_FIELDS.length));
    expect(/local ITEM_FP = (\d+)/.exec(lua("enqueue.lua"))?.[1]).toBe(String(NEW_RECORD_FIELDS.indexOf("fp") + 1));
    expect(/local ITEM_JOB_ID = (\d+)/.exec(lua("enqueue.lua"))?.[1]).toBe(
      String(NEW_RECORD_FIELDS.indexOf("jobId") + 1),
    );
  });

  it("takes as many of BullMQ's keys as its addStandardJob has (NB)", () => {
    for (const file of ["enqueue.lua", "publish-outcome.lua", "publish-notice.lua"]) {
      expect(/local NB = (\d+)/.exec(lua(file))?.[1], file).toBe(String(BULLMQ_ADD_KEY_COUNT));
    }
  });

  it(
    "is what Redis runs: includes resolved once, nothing left " + "to fill in, the shebang first where it writes a job",
    () => {
      for (const script of [...Object.values(SCRIPTS), ...Object.values(RATE_LIMIT_SCRIPTS)]) {
        expect(script.lua, script.name).not.toMatch(/^--- @include/m);
        expect(script.lua, script.name).not.toMatch(/\$\{/);
      }
      expect(SCRIPTS.enqueue.lua.startsWith("#!lua\n")).toBe(true);
      expect(SCRIPTS.publishOutcome.lua.startsWith("#!lua\n")).toBe(true);
      // record.lua is included by read-record.lua and by enqueue.lua's other includes: once.
      expect(SCRIPTS.enqueue.lua.match(/local RECORD_FIELDS = /g)).toHaveLength(1);
      expect(SCRIPTS.enqueue.lua).toMatch(/local function bullmqAddStandardJob\(KEYS, ARGV\)/);
    },
  );

  it("refuses an include that has a shebang, and names a missing one", () => {
    const dir = new URL("../fixtures/lua/", import.meta.url);
    expect(() => loadLuaScript(dir, "includes-missing", "x")).toThrow(/includes\/nope\.lua/);
    expect(() => loadLuaScript(dir, "includes-shebang", "x")).toThrow(/with-shebang\.lua .*must not have a shebang/);
  });
});

describe("the rate limiter's scripts agree with STATE_FIELDS", () => {
  it("returns the state's fields in STATE_FIELDS order", () => {
    const text = readFileSync(new URL("../../src/ratelimit/lua/includes/read-state.lua", import.meta.url), "utf8");
    const ret = /return \{(.*)\}/s.exec(text)?.[1] ?? "";
    const items = ret.split(",").map((i) => i.trim());
    const names = items.map((i) => {
      if (i.startsWith("stored")) return "stored";
      const m = /^s\((?:h\.)?(\w+)(?: or 0)?\)$/.exec(i);
      if (!m) throw new Error(`unexpected item ${i}`);
      return m[1];
    });
    expect(names).toEqual([...STATE_FIELDS]);
  });
});

describe("the outcome log's entry", () => {
  it("is written with LOG_FIELDS, in order, by append-log.lua and by the MULTI path", async () => {
    const { LOG_FIELDS } = await import("../../src/store/redis/outcome-log.js");
    const include = lua("includes/append-log.lua");
    const xadd = /redis\.call\('XADD'([^)]*)\)/s.exec(include)?.[1] ?? "";
    expect([...xadd.matchAll(/'(\w+)', \w+/g)].map((m) => m[1]).filter((f) => f !== "MINID")).toEqual([...LOG_FIELDS]);
    const ts = readFileSync(new URL("../../src/store/redis/outcome-log.ts", import.meta.url), "utf8");
    const multi = /multi\.xadd\(([^;]*)\);/s.exec(ts)?.[1] ?? "";
    expect([...multi.matchAll(/"(\w+)",\s*\w+!/g)].map((m) => m[1])).toEqual([...LOG_FIELDS]);
  });
});
