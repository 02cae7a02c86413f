import { describe, expect, it } from "vitest";
import type { OutcomeEvent } from "../../src/contracts/outcome.js";
import { ListQueryError } from "../../src/errors/index.js";
import { newRequestJobId } from "../../src/request-record/identity.js";
import { createMemoryRequestStore } from "../../src/store/memory-request-store.js";
import {
  encodeListCursor,
  LIST_LIMIT_DEFAULT,
  parseRequestQuery,
  requestQueryOf,
  type RequestQuery,
} from "../../src/store/request-query.js";
import type { RequestStore } from "../../src/store/request-store.js";

/** Every page of a listing, following `next` (bounded: a listing that never ends fails the test). */
async function allPages(store: Pick<RequestStore, "listRequests">, input: Record<string, unknown>) {
  const pages: string[][] = [];
  let cursor: string | undefined;
  for (let i = 0; i < 100; i++) {
    const page = await store.listRequests(requestQueryOf({ ...input, ...(cursor ? { cursor } : {}) }));
    pages.push(page.items.map((item) => item.id));
    if (page.next === null) return pages;
    cursor = page.next;
  }
  throw new Error("the listing did not end");
}

const canceled = (requestId: string): OutcomeEvent =>
  ({ type: "canceled", requestId, eventId: "e", completedAt: "2026-12-07T12:00:00.000Z", attempts: 0 }) as never;

describe("the query of a listing (store/request-query.ts)", () => {
  it("takes strings from a URL and numbers from the library, with a default and a bound on limit", () => {
    expect(parseRequestQuery({})).toEqual({ query: { limit: LIST_LIMIT_DEFAULT } });
    expect(parseRequestQuery({ state: "waiting", limit: "7" })).toEqual({ query: { state: "waiting", limit: 7 } });
    expect(parseRequestQuery({ identifier: "pacinv-ABCDEFGHIJKLM", catalog: "AWS", limit: 200 })).toEqual({
      query: { identifier: "pacinv-ABCDEFGHIJKLM", catalog: "AWS", limit: 200 },
    });
  });

  it.each([
    [{ state: "sleeping" }, "state", "must be one of active, waiting, prioritized, delayed, failed, completed"],
    [{ identifier: "inv-1" }, "identifier", "must match ^pacinv-[A-Za-z0-9]{13}$"],
    [{ identifier: "pacinv-ABCDEFGHIJKLM", catalog: "A.B" }, "catalog", "must match ^[a-zA-Z0-9-]+$"],
    [{ catalog: "AWS" }, "catalog", "goes with identifier"],
    [{ limit: "0" }, "limit", "must be a whole number from 1 to 200"],
    [{ limit: "201" }, "limit", "must be a whole number from 1 to 200"],
    [{ limit: "ten" }, "limit", "must be a whole number from 1 to 200"],
    [{ limit: 2.5 }, "limit", "must be a whole number from 1 to 200"],
    [{ cursor: "not-a-cursor" }, "cursor", "must be the `next` of a previous page"],
    [{ cursor: "x".repeat(1025) }, "cursor", "at most 1024 characters"],
    [{ sort: "asc" }, "sort", "is not a parameter of this listing (state, identifier, catalog, cursor, limit)"],
  ])("refuses %j naming the field and the rule", (input, field, rule) => {
    const result = parseRequestQuery(input);
    expect("issues" in result && result.issues[0]).toMatchObject({ field });
    expect("issues" in result && result.issues[0]!.rule).toContain(rule);
    expect(() => requestQueryOf(input)).toThrow(ListQueryError);
  });

  it("refuses a cursor made by a listing with other filters", () => {
    const waiting: RequestQuery = { state: "waiting", limit: 2 };
    const cursor = encodeListCursor(waiting, { source: "waiting", at: 1, id: "AWS.x.y" });
    expect(parseRequestQuery({ state: "waiting", cursor })).toMatchObject({ query: { cursor } });
    for (const other of [{ state: "failed" }, {}, { identifier: "pacinv-ABCDEFGHIJKLM" }]) {
      const result = parseRequestQuery({ ...other, cursor });
      expect("issues" in result && result.issues[0]).toMatchObject({
        field: "cursor",
        rule: expect.stringContaining("belongs to a listing with other filters"),
      });
    }
  });
});

describe("listRequests on the in-memory store", () => {
  it("pages through a state, oldest first, and never skips a request that stayed while others were taken", async () => {
    const store = createMemoryRequestStore();
    const ids = Array.from({ length: 7 }, (_, i) => `AWS.pacinv-W${i}.x`);
    for (const id of ids) store.plantJob({ id, data: {} });
    const first = await store.listRequests(requestQueryOf({ state: "waiting", limit: 3 }));
    expect(first.items.map((i) => i.id)).toEqual(ids.slice(0, 3));
    expect(first.items[0]).toMatchObject({ job: { state: "waiting", attemptsMade: 0 }, outcome: null });
    // Two are taken by a worker between the pages: the next page goes on after the last one seen.
    store.takeJob(ids[0]!);
    store.takeJob(ids[4]!);
    const second = await store.listRequests(requestQueryOf({ state: "waiting", limit: 3, cursor: first.next! }));
    expect(second.items.map((i) => i.id)).toEqual([ids[3], ids[5], ids[6]]);
    expect(second.next).toBeNull();
  });

  it("lists failed and completed requests most recently finished first", async () => {
    const store = createMemoryRequestStore();
    for (let i = 0; i < 5; i++)
      store.plantJob({ id: `AWS.pacinv-F${i}.x`, data: {}, state: "failed", finishedOn: 100 + i });
    expect(await allPages(store, { state: "failed", limit: 2 })).toEqual([
      ["AWS.pacinv-F4.x", "AWS.pacinv-F3.x"],
      ["AWS.pacinv-F2.x", "AWS.pacinv-F1.x"],
      ["AWS.pacinv-F0.x"],
    ]);
  });

  it("lists an invitation's requests oldest first, with the outcome of one whose job is gone", async () => {
    const store = createMemoryRequestStore();
    const mine = [0, 1, 2].map((i) => newRequestJobId("AWS", "pacinv-MINE000000000", 1_000 + i));
    const sandbox = newRequestJobId("Sandbox", "pacinv-MINE000000000", 5_000);
    store.plantJob({ id: mine[0]!, data: {}, state: "completed", finishedOn: 2_000 });
    store.plantJob({ id: mine[2]!, data: {} });
    store.plantJob({ id: sandbox, data: {}, state: "delayed" });
    store.plantJob({ id: newRequestJobId("AWS", "pacinv-OTHER00000000", 1_500), data: {} });
    await store.publish(canceled(mine[1]!)); // canceled: its job was removed
    const all = await store.listRequests(requestQueryOf({ identifier: "pacinv-MINE000000000" }));
    expect(all.items.map((i) => [i.id, i.job?.state ?? null, i.outcome?.type ?? null])).toEqual([
      [mine[0], "completed", null],
      [mine[1], null, "canceled"],
      [mine[2], "waiting", null],
      [sandbox, "delayed", null],
    ]);
    expect(await allPages(store, { identifier: "pacinv-MINE000000000", limit: 1 })).toEqual([
      [mine[0]],
      [mine[1]],
      [mine[2]],
      [sandbox],
    ]);
    const aws = await store.listRequests(requestQueryOf({ identifier: "pacinv-MINE000000000", catalog: "Sandbox" }));
    expect(aws.items.map((i) => i.id)).toEqual([sandbox]);
    const waiting = await store.listRequests(requestQueryOf({ identifier: "pacinv-MINE000000000", state: "waiting" }));
    expect(waiting.items.map((i) => i.id)).toEqual([mine[2]]);
  });

  it("without a filter, lists every request state by state", async () => {
    const store = createMemoryRequestStore();
    store.plantJob({ id: "AWS.pacinv-A.1", data: {}, state: "completed", finishedOn: 1 });
    store.plantJob({ id: "AWS.pacinv-B.1", data: {} });
    store.plantJob({ id: "AWS.pacinv-C.1", data: {}, state: "delayed" });
    store.plantJob({ id: "AWS.pacinv-D.1", data: {} });
    store.takeJob("AWS.pacinv-D.1");
    store.plantJob({ id: "AWS.pacinv-E.1", data: {}, state: "failed", finishedOn: 1 });
    expect((await allPages(store, { limit: 2 })).flat()).toEqual([
      "AWS.pacinv-D.1", // active
      "AWS.pacinv-B.1", // waiting
      "AWS.pacinv-C.1", // delayed
      "AWS.pacinv-E.1", // failed
      "AWS.pacinv-A.1", // completed
    ]);
  });
});
