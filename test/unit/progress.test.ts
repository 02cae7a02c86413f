import { describe, expect, it } from "vitest";
import { createProgress } from "../../src/cli/progress.js";

const fakeStream = (isTTY: boolean) => {
  const out: string[] = [];
  return { out, stream: { isTTY, write: (s: string) => out.push(s) } as unknown as NodeJS.WriteStream };
};
const counts = { read: 500, enqueued: 450, duplicates: 40, conflicts: [3], invalid: [1, 2] };

describe("enqueue progress", () => {
  it("draws a bar of the bytes read on a terminal, and ends the line when done", () => {
    const { out, stream } = fakeStream(true);
    const p = createProgress(stream, 1000);
    p.update(counts, 500);
    p.done(counts);
    expect(out[0]).toContain(
      "[###############---------------]  50% 500 read, 450 enqueued, 40 dup, 1 conflicts, 2 invalid",
    );
    expect(out.at(-1)).toContain("100%");
    expect(out.at(-1)!.endsWith("\n")).toBe(true);
  });
  it("shows counts without a total (stdin)", () => {
    const { out, stream } = fakeStream(true);
    createProgress(stream).done(counts);
    expect(out[0]).toMatch(/^\r500 read, 450 enqueued/);
  });
  it("is silent when stderr is not a terminal", () => {
    const { out, stream } = fakeStream(false);
    const p = createProgress(stream, 10);
    p.update(counts, 5);
    p.done(counts);
    expect(out).toEqual([]);
  });
});
