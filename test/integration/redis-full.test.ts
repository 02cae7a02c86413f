import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Redis } from "ioredis";
import { buildHttpServer } from "../../src/http/build-http-server.js";
import { createProducer } from "../../src/producer/producer.js";
import { loadConfig } from "../../src/config/load-config.js";
import { createLogger } from "../../src/observability/logger.js";
import { IdempotencyConflictError, RedisFullError } from "../../src/errors/index.js";
import { runCli } from "../helpers/cli.js";
import { waitForOutcomes } from "../helpers/outcomes.js";
import { startPipeline, type Pipeline } from "../helpers/pipeline.js";
import { uniquePrefix } from "../helpers/redis.js";
import { fillUntilFull, startRedisServer, unfill, type OwnRedis } from "../helpers/redis-server.js";
import type { DiscoverySummary } from "../../src/producer/discover.js";
import type { RedriveSummary } from "../../src/producer/redrive.js";
import { expectProblem } from "../helpers/problem.js";

const TOKEN = "redis-full-token-0123456789";
const request = (n: number, extra: Record<string, unknown> = {}) => ({
  catalog: "AWS",
  identifier: `pacinv-FULL${String(n).padStart(9, "0")}`,
  ...extra,
});

/**
 * Every key of a prefix with its content (not DUMP's bytes: a hash table's field order can change
 * as Redis rehashes it, without any write): equal snapshots, nothing written, added or removed.
 */
async function snapshot(admin: Redis, prefix: string): Promise<Map<string, string>> {
  const read = async (key: string): Promise<unknown> => {
    const type = await admin.type(key);
    if (type === "string") return await admin.get(key);
    if (type === "hash") return Object.entries(await admin.hgetall(key)).sort();
    if (type === "list") return await admin.lrange(key, 0, -1);
    if (type === "set") return (await admin.smembers(key)).sort();
    if (type === "zset") return await admin.zrange(key, "0", "-1", "WITHSCORES");
    if (type === "stream") return await admin.xrange(key, "-", "+");
    return type;
  };
  const keys = (await admin.keys(`${prefix}:*`)).sort();
  return new Map(await Promise.all(keys.map(async (k) => [k, JSON.stringify(await read(k))] as const)));
}

/** Keys of a prefix, but BullMQ's queue `meta` hash (written when a queue handle starts). */
async function keysOf(admin: Redis, prefix: string): Promise<string[]> {
  return (await admin.keys(`${prefix}:*`)).filter((k) => !k.endsWith(":meta"));
}

let server: OwnRedis;
beforeAll(async () => {
  server = await startRedisServer({ args: ["--maxmemory", "2mb", "--maxmemory-policy", "noeviction"] });
});
afterAll(async () => {
  await server?.stop();
});

describe("a full Redis (maxmemory reached, noeviction)", () => {
  it(
    "library: enqueue and enqueueMany throw RedisFullError " +
      "(with the Redis reply as cause), and nothing is enqueued",
    async () => {
      const prefix = uniquePrefix("full-lib");
      const redis = new Redis(server.url, { maxRetriesPerRequest: null });
      const producer = createProducer({ redis, prefix });
      try {
        const first = await producer.enqueue(request(1)); // a queue that already has a job and a record
        await fillUntilFull(server.admin);
        const before = await keysOf(server.admin, prefix);

        const one = await producer.enqueue(request(2, { metadata: { m: "v" } })).catch((e: unknown) => e);
        expect(one).toBeInstanceOf(RedisFullError);
        expect(one).toMatchObject({ name: "RedisFullError", code: "REDIS_FULL" });
        expect(String((one as Error).cause)).toMatch(/EXECABORT|OOM/);
        const many = await producer.enqueueMany([request(3), request(4), request(1)]).catch((e: unknown) => e);
        expect(many).toBeInstanceOf(RedisFullError);
        // A refused MULTI writes nothing: no new record, no new job.
        expect((await keysOf(server.admin, prefix)).sort()).toEqual(before.sort());

        // A conflict is still a conflict (judged on reads, before any write).
        const conflict = await producer.enqueue(request(1, { clientToken: "other-token" })).catch((e: unknown) => e);
        expect(conflict).toBeInstanceOf(IdempotencyConflictError);
        // …and a re-submission is answered with the first submission's job (it writes nothing).
        const again = await producer.enqueue(request(1));
        expect(again).toMatchObject({ duplicate: true, jobId: first.jobId });

        await unfill(server.admin);
        const after = await producer.enqueueMany([request(3), request(4)]);
        expect(after.map((r) => r.duplicate)).toEqual([false, false]);
      } finally {
        await unfill(server.admin);
        await producer.close();
        await server.admin.eval(
          `for _, k in ipairs(redis.call('KEYS', ARGV[1])) do redis.call('DEL', k) end`,
          0,
          `${prefix}:*`,
        );
        redis.disconnect();
      }
    },
  );

  it(
    "HTTP: POSTs get 503 REDIS_FULL with Retry-After, /readyz " +
      "503 (memory: full); both recover when Redis has room",
    async () => {
      const prefix = uniquePrefix("full-http");
      const redis = new Redis(server.url, { maxRetriesPerRequest: null });
      const producer = createProducer({ redis, prefix });
      const config = loadConfig(
        {},
        {
          REDIS_URL: server.url,
          QUEUE_PREFIX: prefix,
          HTTP_AUTH_TOKENS: TOKEN,
          HTTP_RETRY_AFTER_SECONDS: 9,
          LOG_LEVEL: "silent",
        },
      );
      const app = await buildHttpServer({ producer, redis, config, logger: createLogger({ level: "silent" }) });
      try {
        await app.listen({ port: 0, host: "127.0.0.1" });
        const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
        const post = (path: string, body: unknown) =>
          fetch(base + path, {
            method: "POST",
            headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
            body: JSON.stringify(body),
          });
        expect((await fetch(`${base}/readyz`)).status).toBe(200);

        await fillUntilFull(server.admin);
        for (const [path, body] of [
          ["/v1/acceptances", request(1)],
          ["/v1/acceptances/batch", { requests: [request(2), request(3)] }],
        ] as const) {
          const res = await post(path, body);
          expect(res.headers.get("retry-after")).toBe("9");
          expectProblem({ status: res.status, headers: res.headers, body: await res.json() }, "REDIS_FULL", {
            instance: path,
            detail: expect.stringMatching(/full/),
          });
        }
        const ready = await fetch(`${base}/readyz`);
        expect(ready.status).toBe(503);
        expect(await ready.json()).toEqual({
          status: "not-ready",
          checks: { redis: "ok", queue: "running", memory: "full" },
        });
        expect(await keysOf(server.admin, prefix)).toEqual([]);

        await unfill(server.admin);
        expect((await fetch(`${base}/readyz`)).status).toBe(200);
        expect((await post("/v1/acceptances", request(1))).status).toBe(202);
      } finally {
        await unfill(server.admin);
        await app.close();
        await producer.close();
        await server.admin.eval(
          `for _, k in ipairs(redis.call('KEYS', ARGV[1])) do redis.call('DEL', k) end`,
          0,
          `${prefix}:*`,
        );
        redis.disconnect();
      }
    },
  );

  it(
    "CLI: enqueue, limits set, outcomes and worker say " + "so in one line and exit 4; limits show still works",
    async () => {
      const env = {
        REDIS_URL: server.url,
        QUEUE_PREFIX: uniquePrefix("full-cli"),
        PARTNERCENTRAL_ENDPOINT: "http://127.0.0.1:9",
        LOG_LEVEL: "warn",
      };
      await fillUntilFull(server.admin);
      try {
        const runs = await Promise.all([
          runCli(["enqueue", "--catalog", "AWS", "--identifier", "pacinv-ABCDEFGHIJKLM"], env),
          runCli(["enqueue"], env, `${JSON.stringify(request(1))}\n`),
          runCli(["limits", "set", "--rate", "3"], env),
          runCli(["outcomes", "--drain"], env),
          runCli(["worker"], env),
        ]);
        for (const r of runs) {
          expect(r.code, r.stderr).toBe(4);
          const lines = r.stderr.trim().split("\n");
          expect(lines, r.stderr).toHaveLength(1);
          expect(lines[0]).toMatch(/^pc-invitations \w+: Redis at redis:\/\/127\.0\.0\.1:\d+ is full /);
          expect(lines[0]).toContain("is full (used memory reached maxmemory) and refuses writes");
          expect(r.stderr).not.toMatch(/ReplyError|\n\s+at /);
        }
        const show = await runCli(["limits", "show"], env);
        expect(show.code, show.stderr).toBe(0);
      } finally {
        await unfill(server.admin);
      }
    },
  );
});

describe("enqueue --file when Redis fills up midway", () => {
  it(
    "stops with exit 4 and a summary of how far it got; running " +
      "it again enqueues the rest, nothing lost or doubled",
    async () => {
      const prefix = uniquePrefix("full-midway");
      const env = { REDIS_URL: server.url, QUEUE_PREFIX: prefix, LOG_LEVEL: "silent" };
      const total = 400; // ~3 KiB of Redis memory each
      const input = `${Array.from({ length: total }, (_, i) => JSON.stringify(request(10_000 + i))).join("\n")}\n`;
      const used = async () => Number(/used_memory:(\d+)/.exec(await server.admin.info("memory"))![1]);
      try {
        // Room for some of the lines only: maxmemory just above what is used now (BullMQ's scripts
        // are loaded by the earlier tests or by this warm-up, so they do not count against it).
        await runCli(["enqueue", "--json"], env, `${JSON.stringify(request(99_999))}\n`);
        await server.admin.config("SET", "maxmemory", String((await used()) + 300_000));
        const first = await runCli(["enqueue", "--json", "--batch-size", "1"], env, input, 60_000);
        expect(first.code, first.stderr).toBe(4);
        expect(first.stderr.trim().split("\n")).toEqual([expect.stringContaining("is full")]);
        const partial = JSON.parse(first.stdout) as { enqueued: number; stoppedAtLine: number };
        expect(partial.enqueued).toBeGreaterThan(0);
        expect(partial.enqueued).toBeLessThan(total);
        expect(partial.stoppedAtLine).toBe(partial.enqueued + 1);

        await server.admin.config("SET", "maxmemory", "0");
        const second = await runCli(["enqueue", "--json"], env, input, 60_000);
        expect(second.code, second.stderr).toBe(0);
        expect(JSON.parse(second.stdout)).toMatchObject({
          read: total,
          duplicates: partial.enqueued,
          enqueued: total - partial.enqueued,
          conflicts: [],
          invalid: [],
        });
        expect((await keysOf(server.admin, prefix)).filter((k) => /:idem:/.test(k))).toHaveLength(total + 1);
      } finally {
        await server.admin.config("SET", "maxmemory", "2mb");
        await server.admin.eval(
          `for _, k in ipairs(redis.call('KEYS', ARGV[1])) do redis.call('DEL', k) end`,
          0,
          `${prefix}:*`,
        );
      }
    },
  );
});

describe("a batch when Redis fills up midway", () => {
  it(
    "library: a batch that fills Redis midway is refused whole, " +
      "not only its last writes: no record and no job of it",
    async () => {
      const prefix = uniquePrefix("full-batch");
      const redis = new Redis(server.url, { maxRetriesPerRequest: null });
      const producer = createProducer({ redis, prefix });
      const used = async () => Number(/used_memory:(\d+)/.exec(await server.admin.info("memory"))![1]);
      // ~3 KB of metadata each, in the record and in the job: the batch needs several times the room
      // left below, each of its writes alone far less.
      const batch = Array.from({ length: 100 }, (_, i) =>
        request(20_000 + i, { metadata: { note: "m".repeat(3000), i } }),
      );
      try {
        await producer.enqueue(request(19_999)); // BullMQ's scripts loaded, the queue started
        const before = await keysOf(server.admin, prefix);
        // Room for part of the batch only: Redis is not full when the batch starts.
        await server.admin.config("SET", "maxmemory", String((await used()) + 200_000));
        const refused = await producer.enqueueMany(batch).catch((e: unknown) => e);
        expect(refused).toBeInstanceOf(RedisFullError);
        expect((await keysOf(server.admin, prefix)).sort()).toEqual(before.sort());

        await server.admin.config("SET", "maxmemory", "0");
        const again = await producer.enqueueMany(batch);
        expect(again.filter((r) => r.duplicate)).toEqual([]);
        expect(await producer.queue.getJobCountByTypes("waiting")).toBe(101);
      } finally {
        await server.admin.config("SET", "maxmemory", "2mb");
        await producer.close();
        await server.admin.eval(
          `for _, k in ipairs(redis.call('KEYS', ARGV[1])) do redis.call('DEL', k) end`,
          0,
          `${prefix}:*`,
        );
        redis.disconnect();
      }
    },
  );
});

// Last of the tests on `server`: a worker's connections and scripts leave it over 2 MB.
describe("discover, cancel and redrive on a full Redis", () => {
  let p: Pipeline | undefined;
  const dir = mkdtempSync(join(tmpdir(), "pci-full-ops-"));
  afterAll(async () => {
    await p?.close();
    await server.admin.config("SET", "maxmemory", "2mb");
    rmSync(dir, { recursive: true, force: true });
  });

  it("CLI: each, about to write (a pending invitation to enqueue, a queued " +
    "request, a failed one), says so in one line and exits 4; nothing written", async () => {
    // Room for the set-up (a worker's connections and BullMQ's scripts do not fit in 2 MB).
    await server.admin.config("SET", "maxmemory", "0");
    p = await startPipeline({ label: "full-ops", redisUrl: server.url });
    const pipeline = p;
    // A failed request to redrive: AWS denied it once.
    const [denied, queued, fresh] = pipeline.emulator.seedInvitations(3);
    pipeline.emulator.script({
      operation: "AcceptConnectionInvitation",
      identifier: denied!.identifier,
      times: 1,
      error: "AccessDeniedException",
      reason: "ACCESS_DENIED",
    });
    const failed = await pipeline.producer.enqueue({ catalog: denied!.catalog, identifier: denied!.identifier });
    const worker = await pipeline.startWorker();
    expect(await waitForOutcomes(pipeline.redis, pipeline.prefix, 1, { timeoutMs: 60_000 })).toMatchObject([
      { type: "failed", requestId: failed.jobId },
    ]);
    await worker.shutdown("the failure is there");
    // A queued request to cancel (no worker runs from here on).
    const waiting = await pipeline.producer.enqueue({ catalog: queued!.catalog, identifier: queued!.identifier });
    // A pending invitation for discover to enqueue (every invitation accepted by the policy).
    const policyFile = join(dir, "accept-all.json");
    writeFileSync(policyFile, JSON.stringify({ default: "accept", rules: [] }));
    const env = {
      REDIS_URL: server.url,
      QUEUE_PREFIX: pipeline.prefix,
      PARTNERCENTRAL_ENDPOINT: pipeline.emulator.url,
      RATE_LIMIT_RPS: "1000",
      RATE_LIMIT_BURST: "1000",
      LOG_LEVEL: "warn",
    };
    const commands = [
      ["discover", "--catalog", "AWS", "--policy", policyFile, "--json"],
      ["cancel", waiting.jobId, "--json"],
      ["redrive", "--error", "AccessDeniedException", "--json"],
    ];

    const used = Number(/used_memory:(\d+)/.exec(await server.admin.info("memory"))![1]);
    await server.admin.config("SET", "maxmemory", String(used + 1024 * 1024));
    await fillUntilFull(server.admin);
    try {
      const before = await snapshot(server.admin, pipeline.prefix);
      const awsCalls = pipeline.emulator.calls().length;
      const runs = await Promise.all(commands.map((args) => runCli(args, env, undefined, 120_000)));
      runs.forEach((r, i) => {
        const name = commands[i]![0]!;
        // Soft: each command's verdict is reported, not only the first one's.
        expect.soft(r.code, `${name}: ${r.stderr}`).toBe(4);
        expect
          .soft(r.stderr.trim().split("\n"), `${name}: ${r.stderr}`)
          .toEqual([
            expect.stringMatching(
              new RegExp(
                `^pc-invitations ${name}: Redis at redis://127\\.0\\.0\\.1:\\d+ ` +
                  `is full \\(used memory reached maxmemory\\) and refuses writes`,
              ),
            ),
          ]);
        expect.soft(r.stdout, name).toBe("");
      });
      const after = await snapshot(server.admin, pipeline.prefix);
      const changed = [...new Set([...before.keys(), ...after.keys()])].filter((k) => before.get(k) !== after.get(k));
      expect(changed, "keys written, added or removed").toEqual([]);
      expect(pipeline.emulator.calls().slice(awsCalls), "calls to AWS while Redis is full").toEqual([]);
      expect(await pipeline.producer.queue.getJobState(waiting.jobId)).toBe("waiting");
    } finally {
      await unfill(server.admin);
      await server.admin.config("SET", "maxmemory", "0");
    }

    // With room again the same commands write: each was one step from its writes.
    const cancel = await runCli(commands[1]!, env, undefined, 120_000);
    expect(cancel.code, cancel.stderr).toBe(0);
    expect(JSON.parse(cancel.stdout)).toMatchObject({ type: "canceled", requestId: waiting.jobId });
    const redrive = await runCli(commands[2]!, env, undefined, 120_000);
    expect(redrive.code, redrive.stderr).toBe(0);
    expect(JSON.parse(redrive.stdout) as RedriveSummary).toMatchObject({
      found: 1,
      redriven: 1,
      requests: [{ requestId: failed.jobId, result: "redriven" }],
    });
    const discover = await runCli(commands[0]!, env, undefined, 120_000);
    expect(discover.code, discover.stderr).toBe(0);
    const summary = JSON.parse(discover.stdout) as DiscoverySummary;
    expect(summary).toMatchObject({ found: 3, enqueued: { accept: 1, reject: 0 } });
    expect(summary.invitations.find((i) => i.identifier === fresh!.identifier)).toMatchObject({ result: "enqueued" });
  }, 300_000);
});

describe("a Redis that refuses the password", () => {
  const password = "right-horse-battery-staple-42";
  let secured: OwnRedis;
  beforeAll(async () => {
    secured = await startRedisServer({ password });
  });
  afterAll(async () => {
    await secured?.stop();
  });

  it.each([
    ["enqueue", "--catalog", "AWS", "--identifier", "pacinv-ABCDEFGHIJKLM"],
    ["worker"],
    ["serve"],
    ["limits", "show"],
    ["outcomes", "--drain"],
  ])("`%s`: one line naming the user, never the password, exit 3 at once (no retry)", async (...args) => {
    const wrong = "wrong-secret-pass-1";
    const env = {
      REDIS_URL: `redis://:${wrong}@127.0.0.1:${secured.port}`,
      HTTP_AUTH_TOKENS: TOKEN,
      HTTP_PORT: "0",
      LOG_LEVEL: "info",
      PARTNERCENTRAL_ENDPOINT: "http://127.0.0.1:9",
    };
    const r = await runCli(args, env);
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr.trim().split("\n"), r.stderr).toHaveLength(1);
    expect(r.stderr).toContain(
      `Redis at redis://:***@127.0.0.1:${secured.port} refused the password for user "default"`,
    );
    expect(r.stderr).not.toContain("cannot reach Redis");
    expect(r.stderr + r.stdout).not.toContain(wrong);
  });

  it("says a password is required when none is given, and names the user of a wrong one", async () => {
    const none = await runCli(["enqueue", "--catalog", "AWS", "--identifier", "pacinv-ABCDEFGHIJKLM"], {
      REDIS_URL: secured.url,
    });
    expect(none.code).toBe(3);
    expect(none.stderr).toMatch(/requires a password and none was given/);
    const bob = await runCli(["worker"], { REDIS_URL: `redis://bob:bobs-secret-9@127.0.0.1:${secured.port}` });
    expect(bob.code).toBe(3);
    expect(bob.stderr).toContain('refused the password for user "bob"');
    expect(bob.stderr).not.toContain("bobs-secret-9");
  });
});
