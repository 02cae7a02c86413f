/**
 * GET /v1/acceptances (the listing) and GET /v1/status over HTTP, on real Redis: pages, filters
 * refused with problems naming the parameter, and the status report.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Redis } from "ioredis";
import { newRedis } from "../helpers/redis.js";
import { call, useHttpServers } from "../helpers/http-server.js";
import { expectProblem } from "../helpers/problem.js";
import { acceptanceListSchema, statusReportSchema } from "../../src/http/http-schemas.js";

const ID = (n: number) => `pacinv-LIST${String(n).padStart(9, "0")}`;

let redis: Redis;
const { startServer, closeAll } = useHttpServers(() => redis);
beforeAll(() => {
  redis = newRedis();
});
afterEach(async () => {
  await closeAll();
});
afterAll(() => {
  redis.disconnect();
});

describe("GET /v1/acceptances", () => {
  it("pages through the waiting requests, each item as GET /v1/acceptances/{id} answers it", async () => {
    const s = await startServer();
    const ids: string[] = [];
    for (let n = 0; n < 5; n++) {
      const res = await call(s, "/v1/acceptances", { json: { catalog: "AWS", identifier: ID(n) } });
      expect(res.status).toBe(202);
      ids.push(res.body.jobId);
    }
    const seen: unknown[] = [];
    let path = "/v1/acceptances?state=waiting&limit=2";
    for (let n = 0; n < 5; n++) {
      const res = await call(s, path);
      expect(res.status, res.text).toBe(200);
      const page = acceptanceListSchema.parse(res.body);
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items);
      if (page.next === null) break;
      path = `/v1/acceptances?state=waiting&limit=2&cursor=${encodeURIComponent(page.next)}`;
    }
    expect(seen.map((i) => (i as { id: string }).id)).toEqual(ids);
    const one = await call(s, `/v1/acceptances/${encodeURIComponent(ids[0]!)}`);
    expect(seen[0]).toEqual(one.body);

    const mine = await call(s, `/v1/acceptances?identifier=${ID(3)}`);
    expect(mine.body).toEqual({ items: [one.body].map(() => expect.objectContaining({ id: ids[3] })), next: null });
    // Without a filter: every request the queue holds.
    const all = await call(s, "/v1/acceptances");
    expect(all.body.items.map((i: { id: string }) => i.id)).toEqual(ids);
    expect(all.body.next).toBeNull();
  });

  it.each([
    ["state=sleeping", "state", "must be one of active, waiting, prioritized, delayed, failed, completed"],
    ["limit=0", "limit", "must be a whole number from 1 to 200"],
    ["limit=500", "limit", "must be a whole number from 1 to 200"],
    ["identifier=inv-1", "identifier", "must match ^pacinv-[A-Za-z0-9]{13}$"],
    ["catalog=AWS", "catalog", "goes with identifier (it narrows an invitation's requests)"],
    ["cursor=bogus", "cursor", "must be the `next` of a previous page, as it was"],
    ["state=waiting&state=failed", "state", "must be one of active, waiting, prioritized, delayed, failed, completed"],
    ["sort=asc", "sort", "is not a parameter of this listing (state, identifier, catalog, cursor, limit)"],
  ])("?%s is a 400 problem naming the parameter", async (query, field, rule) => {
    const s = await startServer();
    const res = await call(s, `/v1/acceptances?${query}`);
    expectProblem(res, "INVALID_REQUEST", { issues: [{ field, rule }], instance: "/v1/acceptances" });
  });

  it("refuses a cursor of a listing with other filters", async () => {
    const s = await startServer();
    for (let n = 0; n < 3; n++) await call(s, "/v1/acceptances", { json: { catalog: "AWS", identifier: ID(n) } });
    const first = await call(s, "/v1/acceptances?state=waiting&limit=1");
    const res = await call(s, `/v1/acceptances?state=failed&cursor=${encodeURIComponent(first.body.next)}`);
    expectProblem(res, "INVALID_REQUEST", {
      issues: [
        {
          field: "cursor",
          rule: "belongs to a listing with other filters (state, identifier, catalog): start again without a cursor",
        },
      ],
    });
  });

  it("needs a token, like every /v1 route", async () => {
    const s = await startServer();
    expectProblem(await call(s, "/v1/acceptances", { token: null }), "UNAUTHORIZED");
    expectProblem(await call(s, "/v1/status", { token: null }), "UNAUTHORIZED");
  });
});

describe("GET /v1/status", () => {
  it("answers the status report of the server's queues", async () => {
    const s = await startServer();
    for (let n = 0; n < 4; n++) await call(s, "/v1/acceptances", { json: { catalog: "AWS", identifier: ID(n) } });
    const res = await call(s, "/v1/status");
    expect(res.status, res.text).toBe(200);
    const report = statusReportSchema.parse(res.body);
    expect(report.backlog).toEqual({ total: 4, waiting: 4, prioritized: 0, delayed: 0, active: 0 });
    expect(report.rate.limits.map((l) => l.limitKey)).toEqual(["default"]);
    expect(report.workers.alive).toBe(0);
  });
});
