import { describe, expect, it } from "vitest";
import { BatchValidationError, RequestValidationError } from "../../src/errors/index.js";
import { prepareRequests } from "../../src/producer/producer.js";

const ok = (n: number) => ({ catalog: "AWS", identifier: `pacinv-PREP${String(n).padStart(9, "0")}` });

describe("prepareRequests (what enqueueMany and preview validate first)", () => {
  it("keeps the caller's positions: a hole in a sparse array is an invalid request at its index", () => {
    // biome-ignore lint/suspicious/noSparseArray: the hole is what this test is about
    const sparse = [, ok(1), ok(2)];
    const err = (() => {
      try {
        prepareRequests(sparse);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(BatchValidationError);
    expect((err as BatchValidationError).invalid.map((i) => i.index)).toEqual([0]);
    const holes = new Array<unknown>(5);
    holes[3] = ok(3);
    expect(() => prepareRequests(holes)).toThrow(BatchValidationError);
    expect(prepareRequests([ok(1), ok(2)]).map((p) => p.index)).toEqual([0, 1]);
  });

  it("says that requests must be an array, naming the field, for anything else a JavaScript caller may pass", () => {
    for (const notAnArray of [undefined, null, "abc", { length: 2 }, 42]) {
      const err = (() => {
        try {
          prepareRequests(notAnArray as never);
        } catch (e) {
          return e;
        }
      })();
      expect(err, String(notAnArray)).toBeInstanceOf(RequestValidationError);
      expect((err as RequestValidationError).issues).toEqual([
        { field: "requests", rule: "must be an array of requests" },
      ]);
    }
  });
});
