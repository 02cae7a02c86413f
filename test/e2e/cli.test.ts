import { readFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { PROCESS_START_MS, runCli, sigtermOnReadyLine, sigtermTestTimeout, startCli, stopCli } from "../helpers/cli.js";
import { waitFor } from "../helpers/wait.js";
import { deletePrefix, newRedis, REDIS_URL, uniquePrefix } from "../helpers/redis.js";
import { Queue } from "bullmq";
import { freePort } from "../helpers/net.js";

const redis = newRedis();
const prefixes: string[] = [];
afterEach(async () => {
  for (const p of prefixes.splice(0)) await deletePrefix(redis, p);
});

describe("pc-invitations CLI", () => {
  it("--help lists every command in a short list; each command has its own help", async () => {
    const r = await runCli(["--help"]);
    expect(r.code).toBe(0);
    // A list, not every command's help (issue 19: it was 180 lines).
    expect(r.stdout.split("\n").length).toBeLessThan(50);
    expect(r.stdout).not.toContain("--file");
    for (const cmd of [
      "enqueue",
      "discover",
      "cancel",
      "redrive",
      "worker",
      "serve",
      "outcomes",
      "limits",
      "emulator",
      "demo",
      "export-schemas",
    ])
      expect(r.stdout).toMatch(new RegExp(`^  ${cmd}\\s`, "m"));
    const sub = await runCli(["enqueue", "--help"]);
    expect(sub.stdout).toContain("--file");
    expect(sub.stdout).not.toContain("pc-invitations discover");
    // No raw line break or carriage return from a template literal: the help shows \n and \r\n.
    expect(sub.stdout).toContain("its \\n or \\r\\n not counted");
    expect(sub.stdout).not.toContain("\r");
  });

  it("--version prints the package version and the Node.js running it", async () => {
    const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
    const r = await runCli(["--version"]);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(`pc-invitations ${pkg.version} (node ${process.version})`);
  });

  it(
    "starts a worker without any warning about the Node.js version",
    async () => {
      const prefix = uniquePrefix("cli-start");
      prefixes.push(prefix);
      const worker = startCli(["worker"], {
        REDIS_URL,
        QUEUE_PREFIX: prefix,
        PARTNERCENTRAL_ENDPOINT: "http://127.0.0.1:9",
      });
      await waitFor(
        () => worker.stderr().includes("worker started") || undefined,
        PROCESS_START_MS,
        "the worker to start",
      );
      const run = await stopCli(worker);
      expect(run.code).toBe(0);
      // The AWS SDK warns on end-of-life Node versions ("...please upgrade to node >=22"); Node
      // itself prints DeprecationWarning/ExperimentalWarning lines. None may appear.
      expect(run.stderr).not.toMatch(
        /upgrade to node|node version|NodeDeprecationWarning|ExperimentalWarning|\(node:\d+\)/i,
      );
    },
    PROCESS_START_MS + 60_000,
  );

  it(
    "exits 0 on a SIGTERM sent the moment it logs 'worker started' (its handler is in place before it says so)",
    async () => {
      const prefix = uniquePrefix("cli-sigterm");
      prefixes.push(prefix);
      const run = await sigtermOnReadyLine(
        ["worker"],
        { REDIS_URL, QUEUE_PREFIX: prefix, PARTNERCENTRAL_ENDPOINT: "http://127.0.0.1:9" },
        /worker started/,
      );
      expect({ sent: run.sent, code: run.code, signal: run.signal }, run.stderr).toEqual({
        sent: true,
        code: 0,
        signal: null,
      });
    },
    sigtermTestTimeout(1),
  );

  it(
    "outcomes: exits 0 on a SIGTERM sent the moment it logs 'consuming outcome events', three starts in a row",
    async () => {
      const prefix = uniquePrefix("cli-outcomes-sigterm");
      prefixes.push(prefix);
      for (let i = 0; i < 3; i++) {
        const run = await sigtermOnReadyLine(
          ["outcomes"],
          { REDIS_URL, QUEUE_PREFIX: prefix },
          /consuming outcome events/,
        );
        expect({ sent: run.sent, code: run.code, signal: run.signal }, run.stderr).toEqual({
          sent: true,
          code: 0,
          signal: null,
        });
      }
    },
    sigtermTestTimeout(3),
  );

  it("says in one line that Redis is unreachable, how to start one, and exits non-zero", async () => {
    const port = await freePort();
    const r = await runCli(["demo"], { REDIS_URL: `redis://127.0.0.1:${port}` });
    expect(r.code).toBe(3);
    const lines = r.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`cannot reach Redis at redis://127.0.0.1:${port}`);
    expect(lines[0]).toContain("redis-server");
  });

  it("names each bad environment variable and its rule", async () => {
    const r = await runCli(["worker"], { WORKER_CONCURRENCY: "many", PARTNERCENTRAL_ENDPOINT: "not a url" });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/WORKER_CONCURRENCY: must be a number/);
    expect(r.stderr).toMatch(/PARTNERCENTRAL_ENDPOINT: must be an http\(s\) URL/);
  });

  it("rejects a malformed single request with the field and rule, enqueueing nothing", async () => {
    const prefix = uniquePrefix("cli-bad");
    prefixes.push(prefix);
    const r = await runCli(["enqueue", "--catalog", "AWS", "--identifier", "pacinv-short"], {
      REDIS_URL,
      QUEUE_PREFIX: prefix,
    });
    expect(r.code).toBe(2);
    expect(r.stdout).toContain("line 1: identifier: must match ^pacinv-[A-Za-z0-9]{13}$");
    // Nothing enqueued: no job, no record (BullMQ's queue `meta` key may exist).
    expect((await redis.keys(`${prefix}:*`)).filter((k) => !k.endsWith(":meta"))).toEqual([]);
  });

  it("enqueues a reject with its reason, and refuses a reason on an accept", async () => {
    const prefix = uniquePrefix("cli-reject");
    prefixes.push(prefix);
    const env = { REDIS_URL, QUEUE_PREFIX: prefix };
    const r = await runCli(
      [
        "enqueue",
        "--catalog",
        "AWS",
        "--identifier",
        "pacinv-RRRRRRRRRRRRR",
        "--action",
        "reject",
        "--reason",
        "Not a fit",
        "--json",
      ],
      env,
    );
    expect(r.code).toBe(0);
    const jobId = JSON.parse(r.stdout).jobs[0].jobId as string;
    const q = new Queue("accept-invitation", { connection: redis, prefix });
    expect((await q.getJob(jobId))!.data.request).toMatchObject({ action: "reject", reason: "Not a fit" });
    await q.close();
    const bad = await runCli(
      ["enqueue", "--catalog", "AWS", "--identifier", "pacinv-SSSSSSSSSSSSS", "--reason", "Not a fit"],
      env,
    );
    expect(bad.code).toBe(2);
    expect(bad.stdout).toContain('line 1: reason: only allowed with action "reject"');
  });

  it(
    "enqueues NDJSON from a file or stdin, counting " + "duplicates and listing invalid lines with their rule",
    async () => {
      const prefix = uniquePrefix("cli-file");
      prefixes.push(prefix);
      const lines = [
        JSON.stringify({ catalog: "AWS", identifier: "pacinv-AAAAAAAAAAAAA" }),
        JSON.stringify({ catalog: "AWS", identifier: "pacinv-BBBBBBBBBBBBB", metadata: { n: 2 } }),
        "",
        JSON.stringify({ catalog: "AWS", identifier: "pacinv-AAAAAAAAAAAAA" }),
        "{not json",
        JSON.stringify({ catalog: "AWS", identifier: "pacinv-CCCC" }),
        JSON.stringify({ catalog: "A W S", identifier: "pacinv-DDDDDDDDDDDDD", clientToken: "no spaces allowed" }),
      ].join("\n");
      const r = await runCli(["enqueue", "--json", "--batch-size", "2"], { REDIS_URL, QUEUE_PREFIX: prefix }, lines);
      expect(r.code).toBe(2);
      const summary = JSON.parse(r.stdout);
      expect(summary).toMatchObject({ read: 6, enqueued: 2, duplicates: 1 });
      expect(summary.invalid).toEqual([
        { line: 5, issues: [{ field: "(line)", rule: "must be one JSON object" }] },
        { line: 6, issues: [{ field: "identifier", rule: "must match ^pacinv-[A-Za-z0-9]{13}$" }] },
        {
          line: 7,
          issues: [
            { field: "catalog", rule: "must match ^[a-zA-Z0-9-]+$ (documented values: AWS, Sandbox)" },
            { field: "clientToken", rule: "must match ^[A-Za-z0-9-_]+$" },
          ],
        },
      ]);
      const q = new Queue("accept-invitation", { connection: redis, prefix });
      const ids = (await q.getJobs(["waiting"])).map((j) => j.id!).sort();
      expect(ids).toHaveLength(2);
      expect(ids[0]).toMatch(/^AWS\.pacinv-AAAAAAAAAAAAA\./);
      expect(ids[1]).toMatch(/^AWS\.pacinv-BBBBBBBBBBBBB\./);
      await q.close();
    },
  );
});
