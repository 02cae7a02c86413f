import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PartnerCentralEmulator } from "../../src/emulator/index.js";
import { PROCESS_START_MS, startCli, type CliRun } from "../helpers/cli.js";
import { startRedisServer, type OwnRedis } from "../helpers/redis-server.js";
import { uniquePrefix } from "../helpers/redis.js";
import { waitFor } from "../helpers/wait.js";

/**
 * Every long-running command stops within SHUTDOWN_GRACE_MS after SIGTERM whatever Redis does:
 * killed, stopped (SIGSTOP: connections open, nothing answers) or refusing the password (rotated
 * under the running process). Each run has a redis-server of its own. Asserted: that the process
 * exited, and with which code, within the grace period plus a generous margin; never how fast.
 */
const GRACE_MS = 4000;
const MARGIN_MS = 15_000;
const PASSWORD = "shutdown-test-pw-51c0";
const TOKEN = "shutdown-test-token-0123456789";

type Fault = "killed" | "stopped" | "password";

let emulator: PartnerCentralEmulator;
beforeAll(async () => {
  emulator = await PartnerCentralEmulator.start();
});
afterAll(async () => {
  await emulator.close();
});

async function breakRedis(own: OwnRedis, fault: Fault): Promise<void> {
  if (fault === "killed") return own.stop();
  if (fault === "stopped") {
    own.process.kill("SIGSTOP");
    return;
  }
  await own.admin.config("SET", "requirepass", `${PASSWORD}-rotated`);
  await own.admin.call("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes");
}

/**
 * Starts `args` on a Redis of its own, waits for `ready` on stderr, breaks Redis, sends SIGTERM and
 * waits (at most grace + margin) for the exit.
 */
async function sigtermWithRedis(args: string[], ready: RegExp, fault: Fault): Promise<CliRun & { exited: boolean }> {
  const own = await startRedisServer({ password: PASSWORD });
  const p = startCli(args, {
    REDIS_URL: `redis://:${PASSWORD}@127.0.0.1:${own.port}`,
    QUEUE_PREFIX: uniquePrefix("shutdown"),
    SHUTDOWN_GRACE_MS: String(GRACE_MS),
    HTTP_AUTH_TOKENS: TOKEN,
    HTTP_PORT: "0",
    HTTP_HOST: "127.0.0.1",
    PARTNERCENTRAL_ENDPOINT: emulator.url,
    RATE_LIMIT_RPS: "1000",
    RATE_LIMIT_BURST: "1000",
    LOG_LEVEL: "info",
  });
  try {
    await waitFor(() => ready.test(p.stderr()), PROCESS_START_MS, `${args.join(" ")}: ${ready}`);
    await breakRedis(own, fault);
    p.child.kill("SIGTERM");
    let timer: NodeJS.Timeout | undefined;
    const run = await Promise.race([
      p.exited,
      new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), GRACE_MS + MARGIN_MS))),
    ]);
    clearTimeout(timer);
    if (!run) {
      p.child.kill("SIGKILL");
      return { ...(await p.exited), exited: false };
    }
    return { ...run, exited: true };
  } finally {
    if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill("SIGKILL");
    own.process.kill("SIGCONT");
    await own.stop();
  }
}

const TEST_TIMEOUT = PROCESS_START_MS + GRACE_MS + MARGIN_MS + 30_000;

describe("SIGTERM while Redis is away: the process exits within SHUTDOWN_GRACE_MS", () => {
  it.each<[string, Fault, number[], string[], RegExp]>([
    // outcomes closes its consumer within the grace period (an event being written is delivered again): 0.
    ["outcomes --follow", "killed", [0], ["outcomes", "--follow"], /consuming outcome events/],
    ["outcomes --follow", "stopped", [0], ["outcomes", "--follow"], /consuming outcome events/],
    ["outcomes --follow", "password", [0], ["outcomes", "--follow"], /consuming outcome events/],
    // Closing waits on Redis, cut off before the grace period ends: 6 (forced), as the worker's.
    ["serve", "stopped", [6], ["serve"], /Server listening at/],
    ["discover --every", "stopped", [6], ["discover", "--catalog", "AWS", "--every", "1h"], /discovery schedule set/],
    ["discover --every", "password", [6], ["discover", "--catalog", "AWS", "--every", "1h"], /discovery schedule set/],
    ["worker", "stopped", [6], ["worker"], /worker started/],
    // A refused reconnect may let the worker's close through (0) or hold it to the end (6), as it happens.
    ["worker", "password", [0, 6], ["worker"], /worker started/],
  ])(
    "%s, Redis %s: exits %j",
    async (_, fault, codes, args, ready) => {
      const run = await sigtermWithRedis(args, ready, fault);
      expect(run.exited, `still running ${GRACE_MS + MARGIN_MS} ms after SIGTERM:\n${run.stderr}`).toBe(true);
      expect(codes, run.stderr).toContain(run.code);
    },
    TEST_TIMEOUT,
  );

  it(
    "outcomes --drain started while Redis is down (still waiting for it at start-up): exits 6",
    async () => {
      const own = await startRedisServer();
      await own.stop();
      const p = startCli(["outcomes", "--drain"], {
        REDIS_URL: own.url,
        QUEUE_PREFIX: uniquePrefix("shutdown-drain"),
        SHUTDOWN_GRACE_MS: String(GRACE_MS),
        REDIS_STARTUP_TIMEOUT_MS: "600000",
        LOG_LEVEL: "info",
      });
      try {
        await waitFor(() => /Redis not reachable yet; retrying/.test(p.stderr()), PROCESS_START_MS, "a retry line");
        p.child.kill("SIGTERM");
        let timer: NodeJS.Timeout | undefined;
        const run = await Promise.race([
          p.exited,
          new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), GRACE_MS + MARGIN_MS))),
        ]);
        clearTimeout(timer);
        expect(run, `still running ${GRACE_MS + MARGIN_MS} ms after SIGTERM:\n${p.stderr()}`).toBeDefined();
        expect(run!.code, run!.stderr).toBe(6);
        expect(run!.stderr).toContain("shutdown did not finish within SHUTDOWN_GRACE_MS; exiting");
      } finally {
        if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill("SIGKILL");
      }
    },
    TEST_TIMEOUT,
  );
});
