import { execFileSync } from "node:child_process";
import { createWriteStream, mkdtempSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Queue } from "bullmq";
import { PartnerCentralEmulator } from "../../src/emulator/index.js";
import { runCli, startCli, stopCli } from "../helpers/cli.js";
import { waitForOutcomes } from "../helpers/outcomes.js";
import { deletePrefix, newRedis, REDIS_URL, uniquePrefix } from "../helpers/redis.js";
import type { DiscoverySummary } from "../../src/producer/discover.js";

const redis = newRedis();
const dir = mkdtempSync(join(tmpdir(), "pci-discover-"));
let emulator: PartnerCentralEmulator;
beforeAll(async () => {
  emulator = await PartnerCentralEmulator.start();
});
afterAll(async () => {
  await emulator.close();
  redis.disconnect();
  rmSync(dir, { recursive: true, force: true });
});

const env = (prefix: string) => ({
  REDIS_URL,
  QUEUE_PREFIX: prefix,
  PARTNERCENTRAL_ENDPOINT: emulator.url,
  RATE_LIMIT_RPS: "1000",
  RATE_LIMIT_BURST: "1000",
  LOG_LEVEL: "warn",
});

const POLICY_YAML = `# accept Acme, reject Globex's subsidiary invitations, hold the rest
default: hold
rules:
  - action: accept
    when:
      otherParticipantIdentifiers: ["111122223333"]
  - action: reject
    reason: We do not take subsidiaries from Globex
    when:
      connectionTypes: [SUBSIDIARY]
      inviterEmailDomains: [globex.example]
`;

describe("pc-invitations discover", () => {
  it(
    "discovers 130 pending invitations across pages, accepts some, " +
      "rejects some, holds the rest; a second run enqueues nothing",
    async () => {
      emulator.reset();
      const prefix = uniquePrefix("cli-discover");
      const policyFile = join(dir, "policy.yaml");
      writeFileSync(policyFile, POLICY_YAML);
      const pending = emulator.seedInvitations(130);
      emulator.seedInvitations(6, { status: "ACCEPTED" });
      const acme = pending.filter((i) => i.otherParticipantIdentifier === "111122223333");
      const globexSub = pending.filter(
        (i) => i.connectionType === "SUBSIDIARY" && i.inviterEmail.endsWith("@globex.example"),
      );
      const held = pending.length - acme.length - globexSub.length;
      try {
        const first = await runCli(["discover", "--catalog", "AWS", "--policy", policyFile], env(prefix));
        expect(first.code, first.stderr).toBe(0);
        const lines = first.stdout.trim().split("\n");
        expect(lines[0]).toBe(
          `found 130 pending invitation(s) in AWS; enqueued ${acme.length} accept, ` +
            `${globexSub.length} reject; 0 duplicate(s); ${held} held; 0 conflict(s)`,
        );
        expect(lines).toHaveLength(131);
        for (const i of acme)
          expect(first.stdout).toMatch(
            new RegExp(
              `^accept AWS ${i.identifier} 111122223333 \\S+ \\(rule 0\\): enqueued AWS\\.${i.identifier}\\.`,
              "m",
            ),
          );
        for (const i of globexSub)
          expect(first.stdout).toMatch(
            new RegExp(`^reject AWS ${i.identifier} \\d+ SUBSIDIARY \\(rule 1\\): enqueued`, "m"),
          );
        expect(first.stdout.match(/^hold {3}.*\(default\): held$/gm)).toHaveLength(held);
        // Two pages of ListConnectionInvitations (100 a page).
        expect(emulator.calls({ operation: "ListConnectionInvitations" })).toHaveLength(2);

        const second = await runCli(["discover", "--catalog", "AWS", "--policy", policyFile, "--json"], env(prefix));
        expect(second.code, second.stderr).toBe(0);
        const summary = JSON.parse(second.stdout) as DiscoverySummary;
        expect(summary).toMatchObject({
          found: 130,
          enqueued: { accept: 0, reject: 0 },
          duplicates: acme.length + globexSub.length,
          held,
          conflicts: 0,
        });
        expect(summary.invitations).toHaveLength(130);

        const worker = startCli(["worker"], env(prefix));
        const events = await waitForOutcomes(redis, prefix, acme.length + globexSub.length, { timeoutMs: 30_000 });
        expect((await stopCli(worker)).code).toBe(0);
        expect(events.filter((e) => e.type === "accepted")).toHaveLength(acme.length);
        expect(events.filter((e) => e.type === "rejected").map((e) => e.rejectReason)).toEqual(
          globexSub.map(() => "We do not take subsidiaries from Globex"),
        );
        const statuses = pending.map((i) => emulator.getInvitation("AWS", i.identifier)!.Status);
        expect(statuses.filter((s) => s === "ACCEPTED")).toHaveLength(acme.length);
        expect(statuses.filter((s) => s === "REJECTED")).toHaveLength(globexSub.length);
        expect(statuses.filter((s) => s === "PENDING")).toHaveLength(held);

        // Nothing is pending-and-decided any more: a third run finds only the held ones.
        const third = await runCli(["discover", "--catalog", "AWS", "--policy", policyFile, "--json"], env(prefix));
        expect(JSON.parse(third.stdout)).toMatchObject({
          found: held,
          enqueued: { accept: 0, reject: 0 },
          duplicates: 0,
          held,
        });
      } finally {
        await deletePrefix(redis, prefix);
      }
    },
  );

  it(
    "discovers in every catalog given by repeated --catalog flags, " +
      "each decided by the policy and enqueued under its own catalog",
    async () => {
      emulator.reset();
      const prefix = uniquePrefix("cli-discover-catalogs");
      const policyFile = join(dir, "policy-catalogs.yaml");
      writeFileSync(policyFile, POLICY_YAML);
      // Spread over both catalogs (and every partner and connection type in each).
      const pending = emulator.seedInvitations(24, { catalogs: ["AWS", "Sandbox"] });
      const decision = (i: (typeof pending)[number]) =>
        i.otherParticipantIdentifier === "111122223333"
          ? "accept"
          : i.connectionType === "SUBSIDIARY" && i.inviterEmail.endsWith("@globex.example")
            ? "reject"
            : "hold";
      const inCatalog = (c: string) => pending.filter((i) => i.catalog === c);
      expect(inCatalog("AWS")).toHaveLength(12);
      expect(inCatalog("Sandbox")).toHaveLength(12);
      const accepts = pending.filter((i) => decision(i) === "accept");
      const rejects = pending.filter((i) => decision(i) === "reject");
      for (const c of ["AWS", "Sandbox"]) {
        expect(accepts.some((i) => i.catalog === c)).toBe(true);
        expect(rejects.some((i) => i.catalog === c)).toBe(true);
      }
      try {
        const r = await runCli(
          ["discover", "--catalog", "AWS", "--catalog", "Sandbox", "--policy", policyFile, "--json"],
          env(prefix),
        );
        expect(r.code, r.stderr).toBe(0);
        const summary = JSON.parse(r.stdout) as DiscoverySummary;
        expect(summary).toMatchObject({
          catalogs: ["AWS", "Sandbox"],
          found: 24,
          enqueued: { accept: accepts.length, reject: rejects.length },
          duplicates: 0,
          held: 24 - accepts.length - rejects.length,
          conflicts: 0,
        });
        // Every invitation of both catalogs, each with the decision the policy gives it, and each
        // request under its own catalog (job id and default idempotency key <catalog>.<identifier>).
        expect(summary.invitations.map((i) => `${i.catalog} ${i.identifier} ${i.decision}`).sort()).toEqual(
          pending.map((i) => `${i.catalog} ${i.identifier} ${decision(i)}`).sort(),
        );
        for (const i of summary.invitations.filter((x) => x.decision !== "hold")) {
          expect(i).toMatchObject({ result: "enqueued" });
          expect(i.jobId!.startsWith(`${i.catalog}.${i.identifier}.`)).toBe(true);
        }
        const queue = new Queue("accept-invitation", { connection: redis, prefix });
        const jobs = await queue.getJobs(["waiting"]);
        await queue.close();
        expect(
          jobs
            .map((j) => `${j.data.request.catalog} ${j.data.request.identifier} ${j.data.request.action ?? "accept"}`)
            .sort(),
        ).toEqual([...accepts, ...rejects].map((i) => `${i.catalog} ${i.identifier} ${decision(i)}`).sort());
        // One listing per catalog (12 fit on a page), each in its own catalog.
        expect(
          emulator
            .calls({ operation: "ListConnectionInvitations" })
            .map((c) => c.catalog)
            .sort(),
        ).toEqual(["AWS", "Sandbox"]);
      } finally {
        await deletePrefix(redis, prefix);
      }
    },
  );

  it("holds everything without --policy, and --dry-run enqueues nothing", async () => {
    emulator.reset();
    const prefix = uniquePrefix("cli-discover-dry");
    emulator.seedInvitations(5, { catalog: "Sandbox" });
    try {
      const held = await runCli(["discover", "--catalog", "Sandbox"], env(prefix));
      expect(held.code, held.stderr).toBe(0);
      expect(held.stdout.split("\n")[0]).toBe(
        "found 5 pending invitation(s) in Sandbox; enqueued 0 accept, 0 reject; 0 duplicate(s); 5 held; 0 conflict(s)",
      );
      const policyFile = join(dir, "accept-all.json");
      writeFileSync(policyFile, JSON.stringify({ default: "accept" }));
      const dry = await runCli(["discover", "--catalog", "Sandbox", "--policy", policyFile, "--dry-run"], env(prefix));
      expect(dry.code, dry.stderr).toBe(0);
      expect(dry.stdout.split("\n")[0]).toBe(
        "dry run, nothing enqueued: found 5 pending invitation(s) in Sandbox; " +
          "would enqueue 5 accept, 0 reject; 0 duplicate(s); 0 held; 0 conflict(s)",
      );
      expect(dry.stdout).toMatch(/^accept Sandbox pacinv-\S+ \d+ \S+ \(default\): would enqueue$/m);
      // Nothing enqueued: the held invitations of the first run (docs/held.md) are all there is.
      expect(
        (await redis.keys(`${prefix}:accept-invitation:*`)).filter(
          (k) => !/:(meta|id|events)$/.test(k) && !k.startsWith(`${prefix}:accept-invitation:held:`),
        ),
      ).toEqual([]);
    } finally {
      await deletePrefix(redis, prefix);
    }
  });

  it(
    "ends with exit 1 and one line naming ListConnectionInvitations, the catalog and the repeated NextToken " +
      "when the listing never ends; DISCOVERY_MAX_LISTED bounds the lines, not the counts",
    async () => {
      emulator.reset();
      const prefix = uniquePrefix("cli-discover-loop");
      emulator.seedInvitations(150); // two pages of 100
      emulator.setSwitches({ repeatNextToken: "same" });
      try {
        const r = await runCli(["discover", "--catalog", "AWS"], env(prefix));
        expect(r.code, r.stderr).toBe(1);
        expect(r.stderr.trim()).toBe(
          "pc-invitations discover: ListConnectionInvitations failed: RepeatedNextToken: catalog AWS: page 2 " +
            "answered the NextToken page 1 had answered, so the listing would go round for ever; stopped after 2 " +
            "pages (what was enqueued so far stands)",
        );
        expect(r.stdout).toBe("");
        expect(emulator.calls({ operation: "ListConnectionInvitations" })).toHaveLength(2);
      } finally {
        emulator.setSwitches({ repeatNextToken: undefined });
      }
      const listed = await runCli(["discover", "--catalog", "AWS"], { ...env(prefix), DISCOVERY_MAX_LISTED: "3" });
      expect(listed.code, listed.stderr).toBe(0);
      const lines = listed.stdout.trim().split("\n");
      expect(lines[0]).toContain("found 150 pending invitation(s) in AWS");
      expect(lines.slice(1, 4).every((l) => /^hold\s+AWS pacinv-/.test(l))).toBe(true);
      expect(lines.slice(4)).toEqual([
        "… and 147 more invitation(s), counted above, not listed (DISCOVERY_MAX_LISTED)",
      ]);
      const json = await runCli(["discover", "--catalog", "AWS", "--json"], {
        ...env(prefix),
        DISCOVERY_MAX_LISTED: "3",
      });
      const summary = JSON.parse(json.stdout) as DiscoverySummary;
      expect(summary).toMatchObject({ found: 150, held: 150, invitationsOmitted: 147 });
      expect(summary.invitations).toHaveLength(3);
      await deletePrefix(redis, prefix);
    },
  );

  it(
    "refuses, with exit 2 and one line naming the file and the rule, a policy file over 1 MiB (before reading " +
      "it), nested too deep, or empty, null or ~ (as the HTTP API refuses a null policy)",
    async () => {
      const refused = async (file: string, rule: string) => {
        const r = await runCli(["discover", "--catalog", "AWS", "--policy", file], { REDIS_URL });
        expect(r.code, r.stderr).toBe(2);
        expect(r.stderr).toBe(`pc-invitations discover: invalid policy ${file}: (file): ${rule}\n`);
      };
      // 60 MB that take no disk (sparse): refused by its size, nothing of it read.
      const huge = join(dir, "huge.json");
      writeFileSync(huge, "");
      truncateSync(huge, 60 * 1024 * 1024);
      await refused(huge, "must be at most 1048576 bytes (1 MiB), is 62914560");
      // A pipe does not say its size: read up to one byte past the bound, then refused.
      const fifo = join(dir, "policy.fifo");
      execFileSync("mkfifo", [fifo]);
      const writer = createWriteStream(fifo);
      writer.on("error", () => {}); // EPIPE: the reader stopped at the bound, as it should
      writer.end(" ".repeat(2 * 1024 * 1024));
      await refused(fifo, "must be at most 1048576 bytes (1 MiB), is more");
      writer.destroy();
      const deep = join(dir, "deep.json");
      writeFileSync(deep, `{"rules":${"[".repeat(200_000)}${"]".repeat(200_000)}}`);
      await refused(deep, "must not nest lists and objects more than 32 deep (a policy needs 5)");
      for (const [name, text] of [
        ["empty.yaml", ""],
        ["null.json", "null"],
        ["tilde.yaml", "~\n"],
      ]) {
        const file = join(dir, name!);
        writeFileSync(file, text!);
        await refused(
          file,
          "must be an object with default and rules, not an empty document (nothing, null or ~); " +
            "without a policy every invitation is held",
        );
      }
    },
  );

  it("refuses a bad policy naming the rule and field, and a missing --catalog, with exit 2", async () => {
    const bad = join(dir, "bad.yaml");
    writeFileSync(
      bad,
      "rules:\n  - action: accept\n  - action: reject\n    when:\n      connectionTypes: [SUBSIDARY]\n",
    );
    const r = await runCli(["discover", "--catalog", "AWS", "--policy", bad], { REDIS_URL });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      `invalid policy ${bad}: rules.1.when.connectionTypes.0: must be one of OPPORTUNITY_COLLABORATION, SUBSIDIARY`,
    );
    const none = await runCli(["discover"], { REDIS_URL });
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("give at least one --catalog");
    const help = await runCli(["discover", "--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("--policy FILE");
  });
});
