import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { Queue } from "bullmq";
import { runCli } from "../helpers/cli.js";
import { deletePrefix, newRedis, REDIS_URL, uniquePrefix } from "../helpers/redis.js";

const redis = newRedis();
const prefixes: string[] = [];
let dir: string | undefined;
afterEach(async () => {
  for (const p of prefixes.splice(0)) await deletePrefix(redis, p);
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});
afterAll(() => redis.disconnect());

const id = (n: number) => `pacinv-FILE${String(n).padStart(9, "0")}`;
const line = (n: number, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ catalog: "AWS", identifier: id(n), idempotencyKey: `k-${n}`, ...extra });

async function jobsByKey(prefix: string): Promise<Map<string, string>> {
  const q = new Queue("accept-invitation", { connection: redis, prefix });
  try {
    const jobs = await q.getJobs(["waiting"], 0, -1);
    return new Map(jobs.map((j) => [(j.data as { idempotencyKey: string }).idempotencyKey, j.id!]));
  } finally {
    await q.close();
  }
}

describe("enqueue --file with refused lines", () => {
  it(
    "reports each idempotency conflict by line (also inside " +
      "a batch), enqueues every other line, and says so truly",
    async () => {
      const prefix = uniquePrefix("cli-conflict");
      prefixes.push(prefix);
      dir = await mkdtemp(join(tmpdir(), "pci-enqueue-"));
      const lines = Array.from({ length: 1000 }, (_, i) => line(i + 1));
      // Line 701 reuses line 5's key (an earlier batch of 500) with another invitation; line 900
      // reuses line 899's key (same batch) with another one.
      lines[700] = line(701, { idempotencyKey: "k-5" });
      lines[899] = line(900, { idempotencyKey: "k-899" });
      const file = join(dir, "requests.ndjson");
      await writeFile(file, `${lines.join("\n")}\n`);

      const r = await runCli(
        ["enqueue", "--file", file, "--json"],
        { REDIS_URL, QUEUE_PREFIX: prefix },
        undefined,
        120_000,
      );
      expect(r.code, r.stderr).toBe(2);
      const summary = JSON.parse(r.stdout);
      const jobs = await jobsByKey(prefix);
      expect(jobs.size).toBe(998);
      expect(summary).toEqual({
        read: 1000,
        enqueued: 998,
        duplicates: 0,
        invalid: [],
        conflicts: [
          { line: 701, idempotencyKey: "k-5", differences: ["identifier"], existingJobId: jobs.get("k-5") },
          { line: 900, idempotencyKey: "k-899", differences: ["identifier"], existingJobId: jobs.get("k-899") },
        ],
      });

      const text = await runCli(["enqueue", "--file", file], { REDIS_URL, QUEUE_PREFIX: prefix }, undefined, 120_000);
      expect(text.code).toBe(2);
      expect(text.stdout).toContain("read 1000, enqueued 0, duplicates 998, conflicts 2, invalid 0");
      expect(text.stdout).toContain(
        `line 701: idempotencyKey: "k-5" is already used with a different ` +
          `payload (differs in: identifier); existing job ${jobs.get("k-5")}`,
      );
    },
  );

  it("refuses a --file that is missing or a directory in one line, exit 2, before connecting to Redis", async () => {
    dir = await mkdtemp(join(tmpdir(), "pci-enqueue-"));
    // An unreachable Redis: the answer must come before any connection is tried.
    const env = { REDIS_URL: "redis://127.0.0.1:1", REDIS_STARTUP_TIMEOUT_MS: "60000" };
    const missing = await runCli(["enqueue", "--file", join(dir, "nope.ndjson")], env);
    expect([missing.code, missing.stderr.split("\n")[0]]).toEqual([
      2,
      `pc-invitations enqueue: cannot read --file ${join(dir, "nope.ndjson")}: ENOENT`,
    ]);
    const directory = await runCli(["enqueue", "--file", dir], env);
    expect([directory.code, directory.stderr.split("\n")[0]]).toEqual([
      2,
      `pc-invitations enqueue: cannot read --file ${dir}: EISDIR (it is a directory)`,
    ]);
    expect(directory.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it("accepts a UTF-8 byte order mark, and refuses an over-long line by number while reading on", async () => {
    const prefix = uniquePrefix("cli-bom");
    prefixes.push(prefix);
    const input =
      "\uFEFF" +
      [
        line(1),
        JSON.stringify({ catalog: "AWS", identifier: id(2), metadata: { blob: "x".repeat(200_000) } }),
        line(3),
      ].join("\r\n") +
      "\r\n";
    const r = await runCli(["enqueue", "--json"], { REDIS_URL, QUEUE_PREFIX: prefix }, input);
    expect(r.code, r.stderr).toBe(2);
    expect(JSON.parse(r.stdout)).toEqual({
      read: 3,
      enqueued: 2,
      duplicates: 0,
      conflicts: [],
      invalid: [
        {
          line: 2,
          issues: [
            {
              field: "(line)",
              rule: expect.stringMatching(/^must be at most 65536 bytes \(this one has 2000\d\d bytes\)$/),
            },
          ],
        },
      ],
    });
    expect([...(await jobsByKey(prefix)).keys()].sort()).toEqual(["k-1", "k-3"]);
  });
});
