import { Queue } from "bullmq";
import { describe, expect, it } from "vitest";
import { CLI, PROCESS_START_MS, runCli, runCommand, startCli } from "../helpers/cli.js";
import { deletePrefix, newRedis, REDIS_URL, uniquePrefix } from "../helpers/redis.js";
import { waitFor } from "../helpers/wait.js";
import { freePort } from "../helpers/net.js";
import { outcomeEventSchema } from "../../src/contracts/outcome.js";
import { pipelineWithOutcomes } from "../helpers/outcomes.js";

describe("npm start (pc-invitations demo)", () => {
  it("runs the whole flow on local defaults, prints every outcome and a summary, and leaves no keys", async () => {
    const redis = newRedis();
    const before = new Set(await redis.keys("{pci-demo-*"));
    const r = await runCli(["demo", "--count", "5"], { REDIS_URL }, undefined, 60_000);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split("\n");
    expect(lines.some((l) => l.includes("rejected at the producer") && l.includes("identifier: must match"))).toBe(
      true,
    );
    const events = lines
      .filter((l) => l.startsWith('{"schemaVersion"'))
      .map((l) => outcomeEventSchema.parse(JSON.parse(l)));
    expect(events).toHaveLength(8);
    const summary = JSON.parse(lines.at(-1)!).summary;
    expect(summary).toMatchObject({
      requests: 8,
      outcomes: 8,
      accepted: 6,
      alreadyAccepted: 1,
      failed: 2,
      acceptCalls: 8,
    });
    expect(summary.failures.sort()).toEqual([
      "ConflictException/INCOMPATIBLE_CONNECTION_INVITATION_STATE",
      "ResourceNotFoundException/CONNECTION_INVITATION_NOT_FOUND",
    ]);
    expect(events.find((e) => e.correlationId === "demo-rejected")).toMatchObject({
      type: "failed",
      error: { invitationStatus: "REJECTED" },
    });
    const after = (await redis.keys("{pci-demo-*")).filter((k) => !before.has(k));
    expect(after).toEqual([]);
    redis.disconnect();
  });
});

describe("npm start on a terminal", () => {
  it("prints a table (identifier, outcome, connection id or error, attempts) and a summary line", async () => {
    // `script` gives the demo a real pseudo-terminal, as a user's shell would.
    const command = [process.execPath, CLI, "demo", "--count", "2"].map((a) => `'${a}'`).join(" ");
    const { LOG_LEVEL: _unset, ...env } = process.env;
    const r = await runCommand("script", ["-qec", command, "/dev/null"], { ...env, REDIS_URL });
    expect(r.code, r.output).toBe(0);
    // On a terminal the provoked failures are in the table, not in warn lines between its rows.
    expect(r.output).not.toContain('"level":40');
    const lines = r.output.split(/\r?\n/);
    const header = lines.findIndex((l) => /^identifier\s+outcome\s+connection \/ error\s+attempts$/.test(l));
    expect(header, r.output).toBeGreaterThanOrEqual(0);
    const rows = lines.slice(header + 2).filter((l) => /^pacinv-/.test(l));
    expect(rows).toHaveLength(5);
    expect(rows.filter((l) => /^pacinv-\S+\s+accepted\s+pac-[A-Za-z0-9]{13}\s+1$/.test(l))).toHaveLength(2);
    expect(rows.filter((l) => /\saccepted \(already\)\s+pac-/.test(l))).toHaveLength(1);
    expect(
      rows.some((l) =>
        /^pacinv-UNKNOWN000000\s+failed\s+ResourceNotFoundException: CONNECTION_INVITATION_NOT_FOUND\s+1$/.test(l),
      ),
    ).toBe(true);
    expect(
      rows.some((l) =>
        /\sfailed\s+ConflictException: INCOMPATIBLE_CONNECTION_INVITATION_STATE \(REJECTED\)\s+1$/.test(l),
      ),
    ).toBe(true);
    expect(lines.some((l) => l.startsWith('{"schemaVersion"'))).toBe(false);
    expect(r.output).toContain(
      "5 requests, 5 outcomes: 3 accepted (1 already accepted), 2 failed; 5 AcceptConnectionInvitation calls",
    );
  });

  it("--json prints NDJSON events on a terminal too", async () => {
    const command = [process.execPath, CLI, "demo", "--count", "1", "--json"].map((a) => `'${a}'`).join(" ");
    const r = await runCommand("script", ["-qec", command, "/dev/null"], {
      ...process.env,
      REDIS_URL,
      LOG_LEVEL: "warn",
    });
    expect(r.code, r.output).toBe(0);
    const events = r.output
      .split(/\r?\n/)
      .filter((l) => l.startsWith('{"schemaVersion"'))
      .map((l) => outcomeEventSchema.parse(JSON.parse(l)));
    expect(events).toHaveLength(4);
  });
});

describe("pc-invitations outcomes", () => {
  it("--drain prints the outcome events as NDJSON and exits", async () => {
    const { p, invs } = await pipelineWithOutcomes("drain", 3);
    try {
      const r = await runCli(["outcomes", "--drain"], { REDIS_URL, QUEUE_PREFIX: p.prefix });
      expect(r.code, r.stderr).toBe(0);
      const events = r.stdout
        .trim()
        .split("\n")
        .map((l) => outcomeEventSchema.parse(JSON.parse(l)));
      expect(events.map((e) => e.identifier).sort()).toEqual(invs.map((i) => i.identifier).sort());
      // Consumed: a second drain prints nothing.
      const again = await runCli(["outcomes", "--drain"], { REDIS_URL, QUEUE_PREFIX: p.prefix });
      expect(again.stdout).toBe("");
    } finally {
      await p.close();
    }
  });
});

describe("pc-invitations outcomes, its reader gone (… | head -1)", () => {
  it(
    "stops without a stack trace, exit 0, and loses no " + "event: whatever it could not write is delivered again",
    async () => {
      const { p } = await pipelineWithOutcomes("drain-epipe", 30);
      try {
        const drain = startCli(["outcomes", "--drain"], { REDIS_URL, QUEUE_PREFIX: p.prefix });
        // Read the first line, then go away as `head -1` does.
        await waitFor(() => drain.stdout().includes("\n") || undefined, PROCESS_START_MS, "the first event");
        drain.child.stdout!.destroy();
        const r = await drain.exited;
        // Structured log lines only (the events it could not write are logged as handler failures), no crash.
        expect(r.stderr).not.toMatch(/Unhandled 'error' event/);
        for (const line of r.stderr.trim().split("\n").filter(Boolean))
          expect(() => JSON.parse(line), line).not.toThrow();
        expect(r.code, r.stderr).toBe(0);
        // Every event is either consumed (written before the reader went) or still there to deliver.
        const again = await runCli(["outcomes", "--drain"], { REDIS_URL, QUEUE_PREFIX: p.prefix }, undefined, 60_000);
        expect(again.code, again.stderr).toBe(0);
        const rest = again.stdout
          .trim()
          .split("\n")
          .filter(Boolean)
          .map((l) => outcomeEventSchema.parse(JSON.parse(l)).identifier);
        const outcomes = new Queue("invitation-outcomes", { connection: p.redis, prefix: p.prefix });
        const counts = await outcomes.getJobCounts("completed", "delayed", "waiting", "active", "failed");
        await outcomes.close();
        expect(new Set(rest).size).toBe(rest.length);
        expect(rest.length).toBeLessThan(30);
        // Consumed, or waiting for their retry (a failed write is retried after retryDelayMs): none parked, none gone.
        expect(counts.failed).toBe(0);
        expect(counts.completed! + counts.delayed! + counts.waiting! + counts.active!).toBe(30);
      } finally {
        await p.close();
      }
    },
  );
});

describe("pc-invitations emulator", () => {
  it(
    "serves the API on the given port and stops on SIGTERM",
    async () => {
      const port = await freePort();
      const emu = startCli(["emulator", "--port", String(port), "--seed", "2"]);
      try {
        // The seeded requests are printed after "listening on": wait for both lines, not the log line.
        const lines = await waitFor(
          () => {
            const out = emu
              .stdout()
              .split("\n")
              .filter((l) => l.endsWith("}"));
            return out.length >= 2 ? out : undefined;
          },
          PROCESS_START_MS,
          "the emulator to start and print its seeded requests",
        );
        expect(emu.stderr()).toContain("listening on");
        const seeded = lines.map((l) => JSON.parse(l));
        expect(seeded).toHaveLength(2);
        const health = await fetch(`http://127.0.0.1:${port}/_emulator/health`);
        expect(health.status).toBe(200);
      } finally {
        emu.child.kill("SIGTERM");
        expect((await emu.exited).code).toBe(0);
      }
    },
    PROCESS_START_MS + 60_000,
  );
});

describe("pc-invitations emulator and SIGTERM", () => {
  it("exits 0 on a SIGTERM sent the moment it prints 'listening', while it is still seeding", async () => {
    const port = await freePort();
    // 20,000 seeded invitations are created and printed after the "listening" line: a SIGTERM
    // sent on that line arrives while the command is still at work, before it waits for signals.
    // Its handler must be in place already, or the signal's default action kills the process.
    const emu = startCli(["emulator", "--port", String(port), "--seed", "20000"]);
    let sent = false;
    emu.child.stderr!.on("data", () => {
      if (!sent && emu.stderr().includes("listening on")) {
        sent = true;
        emu.child.kill("SIGTERM");
      }
    });
    const run = await emu.exited;
    expect(sent).toBe(true);
    expect({ code: run.code, signal: run.signal }, run.stderr).toEqual({ code: 0, signal: null });
  });
});

describe("pc-invitations emulator --switches", () => {
  it(
    "starts with the switches given (read back from the control plane) and refuses an unknown one",
    async () => {
      const port = await freePort();
      const emu = startCli([
        "emulator",
        "--port",
        String(port),
        "--switches",
        '{"omitOutputFields":{"GetConnectionInvitation":["ConnectionId"]},"throttleStatus":400}',
      ]);
      try {
        await waitFor(() => emu.stderr().includes("listening on") || undefined, PROCESS_START_MS, "emulator start");
        const switches = (await (await fetch(`http://127.0.0.1:${port}/_emulator/switches`)).json()) as Record<
          string,
          unknown
        >;
        expect(switches).toMatchObject({
          omitOutputFields: { GetConnectionInvitation: ["ConnectionId"] },
          throttleStatus: 400,
        });
      } finally {
        emu.child.kill("SIGTERM");
        expect((await emu.exited).code).toBe(0);
      }
      const bad = await runCli(["emulator", "--port", "0", "--switches", '{"hang":["Nope"]}']);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain("--switches: hang: unknown operation Nope");
    },
    PROCESS_START_MS + 60_000,
  );
});

describe("the prefix helper", () => {
  it("cleans up what a test wrote", async () => {
    const redis = newRedis();
    const prefix = uniquePrefix("cleanup");
    await redis.set(`${prefix}:x`, "1");
    expect(await deletePrefix(redis, prefix)).toBe(1);
    redis.disconnect();
  });
});
