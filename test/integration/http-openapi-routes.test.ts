/**
 * Every /v1 route the server registers is in the OpenAPI document (method and path), and every
 * documented operation is a route the server has: read from the server's own router, so a route
 * added without its documentation fails here.
 */
import type { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { buildHttpServer } from "../../src/http/build-http-server.js";
import { buildOpenApiDocument } from "../../src/http/openapi.js";
import { loadConfig } from "../../src/config/load-config.js";
import { createLogger } from "../../src/observability/logger.js";
import { createRedis } from "../../src/store/redis/connection.js";
import { deletePrefix, REDIS_URL, uniquePrefix } from "../helpers/redis.js";

const redis = createRedis(REDIS_URL) as Redis;
const prefix = uniquePrefix("openapi-routes");
const config = loadConfig(
  {},
  {
    REDIS_URL,
    QUEUE_PREFIX: prefix,
    HTTP_AUTH_TOKENS: "openapi-routes-token-0123456789",
    HTTP_ADMIN_TOKENS: "openapi-routes-admin-0123456789",
  },
);
const app = await buildHttpServer({
  producer: { enqueue: async () => ({}), enqueueMany: async () => [] },
  redis,
  config,
  logger: createLogger({ level: "silent" }),
});
await app.ready();
afterAll(async () => {
  await app.close();
  await deletePrefix(redis, prefix);
  redis.disconnect();
});

/** `METHOD /path/{param}` of every route in Fastify's route tree (printRoutes, HEAD left out). */
function registeredRoutes(tree: string): string[] {
  const out: string[] = [];
  const stack: string[] = [];
  for (const line of tree.split("\n")) {
    const m = /^((?:[│ ] {3})*)[├└]── (.*?)(?: \(([^)]*)\))?$/.exec(line);
    if (!m) continue;
    const depth = m[1]!.length / 4;
    const path = (depth === 0 ? "" : stack[depth - 1]!) + m[2]!;
    stack[depth] = path;
    stack.length = depth + 1;
    for (const method of (m[3] ?? "").split(", ").filter((x) => x && x !== "HEAD")) {
      out.push(`${method} ${path.replace(/:([A-Za-z]+)/g, "{$1}")}`);
    }
  }
  return out;
}

describe("OpenAPI document against the server's routes", () => {
  const doc = buildOpenApiDocument() as { paths: Record<string, Record<string, unknown>> };
  const documented = Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`),
  );
  const registered = registeredRoutes(app.printRoutes({ commonPrefix: false }));

  it("reads the router (the parse finds the routes it must)", () => {
    expect(registered).toContain("GET /healthz");
    expect(registered).toContain("POST /v1/acceptances/{id}/cancel");
    expect(registered.length).toBeGreaterThan(20);
  });

  it("documents every /v1 route the server registers", () => {
    const api = registered.filter((r) => r.split(" ")[1]!.startsWith("/v1/"));
    const missing = api.filter((r) => !documented.includes(r));
    expect(missing).toEqual([]);
    expect(api).toContain("GET /v1/outcomes/stream");
    expect(api).toContain("POST /v1/webhooks/{id}/rotate-secret");
  });

  it("documents only routes the server has", () => {
    const absent = documented.filter((r) => !registered.includes(r));
    expect(absent).toEqual([]);
  });
});
