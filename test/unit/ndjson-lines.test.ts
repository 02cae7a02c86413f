import { describe, expect, it } from "vitest";
import { ndjsonLines } from "../../src/cli/ndjson-lines.js";

async function* chunks(...parts: string[]) {
  for (const p of parts) yield Buffer.from(p);
}
const all = async (it: AsyncIterable<unknown>) => {
  const out: unknown[] = [];
  for await (const x of it) out.push(x);
  return out;
};

describe("ndjsonLines: the per-line bound counts the line, not its ending", () => {
  const MAX = 64 * 1024; // enqueue's MAX_LINE_BYTES
  const atBound = "x".repeat(MAX);
  const overBound = "x".repeat(MAX + 1);

  it("a line of exactly the bound is taken with LF and with CRLF alike", async () => {
    for (const ending of ["\n", "\r\n"]) {
      expect(await all(ndjsonLines(chunks(atBound + ending, `next${ending}`), MAX)), JSON.stringify(ending)).toEqual([
        { lineNo: 1, text: atBound },
        { lineNo: 2, text: "next" },
      ]);
    }
  });

  it("a line one byte over is refused with LF and with CRLF alike, with the same length", async () => {
    for (const ending of ["\n", "\r\n"]) {
      expect(await all(ndjsonLines(chunks(overBound + ending, `next${ending}`), MAX)), JSON.stringify(ending)).toEqual([
        { lineNo: 1, tooLong: true, bytes: MAX + 1 },
        { lineNo: 2, text: "next" },
      ]);
    }
  });

  it("the same when the \\r and the \\n of the ending arrive in different chunks", async () => {
    expect(await all(ndjsonLines(chunks(`${atBound}\r`, "\nnext"), MAX))).toEqual([
      { lineNo: 1, text: atBound },
      { lineNo: 2, text: "next" },
    ]);
    expect(
      await all(ndjsonLines(chunks(overBound.slice(0, 1000), `${overBound.slice(1000)}\r`, "\nnext"), MAX)),
    ).toEqual([
      { lineNo: 1, tooLong: true, bytes: MAX + 1 },
      { lineNo: 2, text: "next" },
    ]);
  });

  it("a last line without \\n: a trailing \\r is still an ending, not content", async () => {
    expect(await all(ndjsonLines(chunks("ok\n", `${atBound}\r`), MAX))).toEqual([
      { lineNo: 1, text: "ok" },
      { lineNo: 2, text: atBound },
    ]);
  });

  it("a \\r inside a line is content and counts, also when it ends a chunk", async () => {
    expect(await all(ndjsonLines(chunks("a\rbc\n"), 4))).toEqual([{ lineNo: 1, text: "a\rbc" }]);
    expect(await all(ndjsonLines(chunks("a\rbcd\n"), 4))).toEqual([{ lineNo: 1, tooLong: true, bytes: 5 }]);
    expect(await all(ndjsonLines(chunks("abc\r", "d\n", "ok\n"), 4))).toEqual([
      { lineNo: 1, tooLong: true, bytes: 5 },
      { lineNo: 2, text: "ok" },
    ]);
    expect(await all(ndjsonLines(chunks("ab\r", "c\r\n"), 4))).toEqual([{ lineNo: 1, text: "ab\rc" }]);
  });
});

describe("ndjsonLines", () => {
  it("splits across chunks, drops a leading BOM only, handles CRLF and a last line without newline", async () => {
    expect(await all(ndjsonLines(chunks("\uFEFFa", "b\r\nc\n\n\uFEFFd"), 100))).toEqual([
      { lineNo: 1, text: "ab" },
      { lineNo: 2, text: "c" },
      { lineNo: 3, text: "" },
      { lineNo: 4, text: "\uFEFFd" },
    ]);
  });

  it("never holds more than the bound of one line: a longer one is skipped and reported with its size", async () => {
    const big = "y".repeat(10_000);
    expect(await all(ndjsonLines(chunks("ok\n", big.slice(0, 5000), `${big.slice(5000)}\nafter`), 1000))).toEqual([
      { lineNo: 1, text: "ok" },
      { lineNo: 2, tooLong: true, bytes: 10_000 },
      { lineNo: 3, text: "after" },
    ]);
  });
});
