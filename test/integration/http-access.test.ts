import type { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  accessStoreFromConfig,
  addToken,
  addUser,
  listTokens,
  listUsers,
  removeToken,
  removeUser,
} from "../../src/app/access.js";
import { AccessNameTakenError, RequestValidationError } from "../../src/errors/index.js";
import { verifyPassword } from "../../src/store/access-secrets.js";
import { call, useHttpServers } from "../helpers/http-server.js";
import { newRedis } from "../helpers/redis.js";
import { waitFor } from "../helpers/wait.js";

/**
 * The access model over real Redis (issue 20): named tokens open exactly their scopes, are kept
 * only as digests, and stop working once removed; people are kept with a scrypt hash only.
 */
let redis: Redis;
beforeAll(() => {
  redis = newRedis();
});
afterAll(() => redis.disconnect());
const { startServer, closeAll } = useHttpServers(() => redis);
afterEach(() => closeAll());

const valid = { catalog: "AWS", identifier: "pacinv-ACCESS0000001" };

async function allValues(prefix: string): Promise<string> {
  const keys = await redis.keys(`${prefix}:access:*`);
  const out: string[] = [];
  for (const k of keys) {
    const type = await redis.type(k);
    if (type === "hash") out.push(JSON.stringify(await redis.hgetall(k)));
    else if (type === "string") out.push((await redis.get(k)) ?? "");
  }
  return out.join("\n");
}

describe("named scoped tokens", () => {
  it("open exactly their scopes, answer 403 insufficient_scope otherwise, and are stored as digests", async () => {
    const s = await startServer();
    const store = accessStoreFromConfig({ QUEUE_PREFIX: s.prefix }, redis);
    const reader = await addToken(store, { name: "dash-reader", scopes: ["read"] });
    const writer = await addToken(store, { name: "ci-enqueue", scopes: ["enqueue", "read"] });
    expect(reader.token).toMatch(/^pci_[A-Za-z0-9_-]{43}$/);

    expect((await call(s, "/v1/status", { token: reader.token })).status).toBe(200);
    const refused = await call(s, "/v1/acceptances", { token: reader.token, json: valid });
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ code: "FORBIDDEN", status: 403 });
    expect(refused.body.detail).toContain("dash-reader");
    expect(refused.headers.get("www-authenticate")).toContain('error="insufficient_scope", scope="enqueue"');
    expect((await call(s, "/v1/acceptances", { token: writer.token, json: valid })).status).toBe(202);
    // control (cancel, redrive) is a scope of its own.
    expect((await call(s, "/v1/redrives", { token: writer.token, json: {} })).status).toBe(403);

    // Only digests are kept: neither token is in Redis.
    const stored = await allValues(s.prefix);
    expect(stored).toContain("dash-reader");
    expect(stored).not.toContain(reader.token);
    expect(stored).not.toContain(writer.token);
    expect(await listTokens(store)).toEqual([
      { name: "ci-enqueue", scopes: ["enqueue", "read"], createdAt: expect.any(String) },
      { name: "dash-reader", scopes: ["read"], createdAt: expect.any(String) },
    ]);

    // A name is never overwritten; a removed token stops working (within the server's 5 s cache).
    await expect(addToken(store, { name: "dash-reader", scopes: ["admin"] })).rejects.toBeInstanceOf(
      AccessNameTakenError,
    );
    expect((await call(s, "/v1/status", { token: reader.token })).status).toBe(200);
    expect(await removeToken(store, "dash-reader")).toEqual({ name: "dash-reader", removed: true });
    await waitFor(async () => (await call(s, "/v1/status", { token: reader.token })).status === 401, 20_000);
    expect((await call(s, "/v1/status", { token: writer.token })).status).toBe(200);
  });

  it(
    "an admin token opens the dashboard; an HTTP_AUTH_TOKENS token keeps " + "the /v1 API but not the dashboard",
    async () => {
      const s = await startServer();
      const store = accessStoreFromConfig({ QUEUE_PREFIX: s.prefix }, redis);
      const admin = await addToken(store, { name: "ops-admin", scopes: ["admin"] });
      expect((await call(s, "/admin/queues/api/queues", { token: admin.token })).status).toBe(200);
      expect((await call(s, "/v1/status", { token: admin.token })).status).toBe(403);
      // TOKEN_A is one of HTTP_AUTH_TOKENS.
      expect((await call(s, "/admin/queues/api/queues")).status).toBe(403);
      expect((await call(s, "/v1/status")).status).toBe(200);
      expect((await call(s, "/v1/acceptances", { json: valid })).status).toBe(202);
    },
  );

  it("refuses bad names and scopes, naming the field and the rule", async () => {
    const store = accessStoreFromConfig({ QUEUE_PREFIX: "{pci-test-access-unused}" }, redis);
    await expect(addToken(store, { name: "a b", scopes: ["read"] })).rejects.toThrow(/name: must be 1-64 characters/);
    const err = await addToken(store, { name: "x", scopes: ["write"] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RequestValidationError);
    expect((err as RequestValidationError).issues).toEqual([
      { field: "scopes.0", rule: "must be one of enqueue, read, decide, control, admin" },
    ]);
    await expect(addToken(store, { name: "x", scopes: [] })).rejects.toThrow(/scopes: must name at least one scope/);
  });
});

describe("people", () => {
  it("are stored with a scrypt hash of their password only", async () => {
    const s = await startServer();
    const store = accessStoreFromConfig({ QUEUE_PREFIX: s.prefix }, redis);
    const password = "correct horse battery staple";
    expect(await addUser(store, { name: "alice", role: "operator", password })).toMatchObject({
      name: "alice",
      role: "operator",
    });
    await expect(addUser(store, { name: "alice", role: "viewer", password })).rejects.toBeInstanceOf(
      AccessNameTakenError,
    );
    await expect(addUser(store, { name: "bob", role: "viewer", password: "short" })).rejects.toThrow(
      /password: must be at least 12 characters/,
    );
    await expect(addUser(store, { name: "bob", role: "admin", password })).rejects.toThrow(
      /role: must be one of viewer, operator/,
    );
    const stored = await allValues(s.prefix);
    expect(stored).not.toContain(password);
    const user = await store.user("alice");
    expect(user?.passwordHash).toMatch(/^scrypt\$32768\$8\$1\$/);
    expect(await verifyPassword(password, user!.passwordHash)).toBe(true);
    expect(await verifyPassword(`${password}!`, user!.passwordHash)).toBe(false);
    expect(await listUsers(store)).toEqual([{ name: "alice", role: "operator", createdAt: expect.any(String) }]);
    expect(await removeUser(store, "alice")).toEqual({ name: "alice", removed: true });
    expect(await removeUser(store, "alice")).toEqual({ name: "alice", removed: false });
  });
});
