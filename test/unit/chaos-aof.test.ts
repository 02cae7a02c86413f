import { describe, expect, it } from "vitest";
import { cleanCut, jobsCreatedOnlyIn, parseAof } from "../../chaos/aof.js";

/** One command as Redis logs it in the AOF (RESP). */
const resp = (...args: string[]) =>
  `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join("")}`;

const Q = "{p}:requests:";
const O = "{p}:outcomes:";
/** BullMQ's storeJob: the job hash created with its data and timestamp. */
const createJob = (prefix: string, id: string) =>
  resp("HMSET", `${prefix}${id}`, "name", "accept", "data", "{}", "opts", "{}", "timestamp", "1", "delay", "0");

describe("chaos AOF reading", () => {
  it("parses commands with their offsets, and stops at a torn last one", () => {
    const text =
      resp("SELECT", "0") + resp("SET", "k", "v\r\nwith a newline") + resp("hmset", "h", "f1", "v", "f2", "w");
    const { commands, tornAt } = parseAof(Buffer.from(`${text}*3\r\n$3\r\nSET\r\n$1\r\nk`));
    expect(commands.map(({ name, key, fields }) => ({ name, key, fields }))).toEqual([
      { name: "SELECT", key: "0", fields: undefined },
      { name: "SET", key: "k", fields: undefined },
      { name: "HMSET", key: "h", fields: ["f1", "f2"] },
    ]);
    expect(commands[2]!.end).toBe(Buffer.byteLength(text));
    expect(tornAt).toBe(Buffer.byteLength(text));
    expect(() => parseAof(Buffer.from("+OK\r\n"))).toThrow(/not an AOF command/);
  });

  it("cuts only where a whole command or a whole MULTI … EXEC block ends", () => {
    const units = [
      resp("SET", "a", "1"),
      resp("MULTI") + resp("HSET", "h", "f", "v") + resp("LPUSH", "l", "x") + resp("EXEC"),
      resp("SET", "b", "2"),
    ];
    const buf = Buffer.from(units.join(""));
    const { commands } = parseAof(buf);
    const ends = [units[0]!, units[0]! + units[1]!, units.join("")].map((s) => Buffer.byteLength(s));
    expect(cleanCut(commands, buf.length)).toBe(ends[2]);
    expect(cleanCut(commands, ends[2]! - 1)).toBe(ends[1]);
    // Inside the block (after its HSET, before its EXEC): the whole block goes, as Redis drops it on load.
    expect(cleanCut(commands, ends[0]! + Buffer.byteLength(resp("MULTI") + resp("HSET", "h", "f", "v")))).toBe(ends[0]);
    expect(cleanCut(commands, 3)).toBe(0);
  });

  it("names the jobs whose creation was dropped and that the kept part never touched", () => {
    const kept = parseAof(
      Buffer.from(
        resp("MULTI") +
          createJob(Q, "AWS.inv-1.a") +
          resp("EXEC") +
          resp("HSET", `${O}AWS.inv-3.c`, "finishedOn", "5") +
          resp("ZADD", `${Q}completed`, "1", "AWS.inv-9.z"),
      ),
    ).commands;
    const dropped = parseAof(
      Buffer.from(
        resp("MULTI") +
          createJob(Q, "AWS.inv-2.b") +
          // a later write to a job created in the kept part: not a creation that was dropped
          resp("HSET", `${Q}AWS.inv-1.a`, "processedOn", "9") +
          resp("EXEC") +
          // the same job created again after it was removed (a revival): it existed in the kept part
          createJob(O, "AWS.inv-3.c") +
          createJob(O, "AWS.inv-4.d") +
          // a sub-key of a job and a write without data are not creations
          resp("HMSET", `${Q}AWS.inv-5.e:lock`, "data", "x", "timestamp", "1") +
          resp("HSET", `${Q}AWS.inv-6.f`, "atm", "1"),
      ),
    ).commands;
    expect(jobsCreatedOnlyIn(dropped, kept, Q)).toEqual(["AWS.inv-2.b"]);
    expect(jobsCreatedOnlyIn(dropped, kept, O)).toEqual(["AWS.inv-4.d"]);
  });
});
