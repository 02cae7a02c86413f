import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";
import { deletePrefix, newRedis, REDIS_URL, uniquePrefix } from "../helpers/redis.js";
import { accessStoreFromConfig } from "../../src/app/access.js";
import { verifyPassword } from "../../src/store/access-secrets.js";

/** `pc-invitations tokens …` and `users …` as processes (the built CLI), on real Redis. */
let redis: Redis;
const prefix = uniquePrefix("access-cli");
const env = { REDIS_URL, QUEUE_PREFIX: prefix, LOG_LEVEL: "silent" };
beforeAll(() => {
  redis = newRedis();
});
afterAll(async () => {
  await deletePrefix(redis, prefix);
  redis.disconnect();
});

describe("tokens and users on the CLI", () => {
  it("makes a token shown once, lists it without the secret, removes it; refuses a bad scope (exit 2)", async () => {
    const made = await runCli(["tokens", "add", "ci-bot", "--scope", "enqueue,read", "--output", "json"], env);
    expect(made.code, made.stderr).toBe(0);
    const token = JSON.parse(made.stdout) as { token: string; scopes: string[] };
    expect(token.token).toMatch(/^pci_/);
    expect(token.scopes).toEqual(["enqueue", "read"]);
    const list = await runCli(["tokens", "list", "--output", "json"], env);
    expect(JSON.parse(list.stdout)).toEqual([
      { name: "ci-bot", scopes: ["enqueue", "read"], createdAt: expect.any(String) },
    ]);
    expect(list.stdout).not.toContain(token.token);
    const bad = await runCli(["tokens", "add", "x", "--scope", "write"], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("scopes.0: must be one of enqueue, read, decide, control, admin");
    const again = await runCli(["tokens", "add", "ci-bot", "--scope", "read"], env);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("exists already");
    expect((await runCli(["tokens", "remove", "ci-bot"], env)).code).toBe(0);
    expect((await runCli(["tokens", "remove", "ci-bot"], env)).code).toBe(1);
  }, 120_000);

  it("adds a person with the password from standard input, kept only as a scrypt hash", async () => {
    const added = await runCli(
      ["users", "add", "alice", "--role", "operator", "--output", "json"],
      env,
      "a-long-password-1\n",
    );
    expect(added.code, added.stderr).toBe(0);
    expect(JSON.parse(added.stdout)).toMatchObject({ name: "alice", role: "operator" });
    const user = await accessStoreFromConfig({ QUEUE_PREFIX: prefix }, redis).user("alice");
    expect(await verifyPassword("a-long-password-1", user!.passwordHash)).toBe(true);
    const short = await runCli(["users", "add", "bob", "--role", "viewer"], env, "short\n");
    expect(short.code).toBe(2);
    expect(short.stderr).toContain("password: must be at least 12 characters");
    const list = await runCli(["users", "list", "--output", "json"], env);
    expect(JSON.parse(list.stdout)).toEqual([{ name: "alice", role: "operator", createdAt: expect.any(String) }]);
    expect((await runCli(["users", "remove", "alice"], env)).code).toBe(0);
  }, 120_000);
});
