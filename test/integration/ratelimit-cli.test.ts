import { afterAll, afterEach, describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";
import { deletePrefix, newRedis, REDIS_URL, uniquePrefix } from "../helpers/redis.js";

const redis = newRedis();
const prefixes: string[] = [];
afterEach(async () => {
  for (const p of prefixes.splice(0)) await deletePrefix(redis, p);
});
afterAll(() => redis.disconnect());

function env(extra: Record<string, string> = {}) {
  const prefix = uniquePrefix("limits-cli");
  prefixes.push(prefix);
  return { prefix, env: { REDIS_URL, QUEUE_PREFIX: prefix, LOG_LEVEL: "silent", ...extra } };
}

describe("pc-invitations limits", () => {
  it("show prints the limit as JSON: the env defaults until one is stored, without storing it", async () => {
    const { prefix, env: e } = env({ RATE_LIMIT_RPS: "7", RATE_LIMIT_BURST: "3", RETRY_BUDGET_RATIO: "0.2" });
    const r = await runCli(["limits", "show"], e);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      limitKey: "default",
      stored: false,
      rate: 7,
      ceiling: 7,
      burst: 3,
      throttles: 0,
      retryBudgetLeft: 10,
      retryBudget: { ratio: 0.2, minPerMinute: 10, callsLastMinute: 0, retriesLastMinute: 0 },
    });
    expect(await redis.exists(`${prefix}:ratelimit:default`)).toBe(0);
  });

  it("set changes the stored limit for every worker; show then reads it whatever the env says", async () => {
    const { prefix, env: e } = env({ RATE_LIMIT_KEY: "catalog-AWS" });
    const set = await runCli(["limits", "set", "--rate", "10", "--burst", "10"], e);
    expect(set.code, set.stderr).toBe(0);
    expect(JSON.parse(set.stdout)).toMatchObject({
      limitKey: "catalog-AWS",
      stored: true,
      rate: 10,
      ceiling: 10,
      burst: 10,
    });
    expect(await redis.hget(`${prefix}:ratelimit:catalog-AWS`, "ceiling")).toBe("10");

    const show = await runCli(["limits", "show"], { ...e, RATE_LIMIT_RPS: "99" });
    expect(JSON.parse(show.stdout)).toMatchObject({ stored: true, rate: 10, ceiling: 10 });
    const other = await runCli(["limits", "show", "--key", "catalog-Sandbox"], e);
    expect(JSON.parse(other.stdout)).toMatchObject({ limitKey: "catalog-Sandbox", stored: false, ceiling: 5 });
    const fractional = await runCli(["limits", "set", "--key", "slow", "--rate", "0.5", "--retry-ratio", "0"], e);
    expect(JSON.parse(fractional.stdout)).toMatchObject({ limitKey: "slow", rate: 0.5, retryBudget: { ratio: 0 } });
  });

  it.each([
    [[], /show or set/],
    [["stop"], /unknown action/],
    [["set"], /at least one of/],
    [["set", "--rate", "0"], /--rate must be from 0.001 to 1000000 calls\/s/],
    [["set", "--rate", "0.0000001"], /--rate must be from 0.001/],
    [["set", "--rate", "1", "--min-rate", "2"], /--min-rate must be ≤ rate \(1 calls\/s\)/],
    [["set", "--rate", "0x10"], /--rate must be from 0.001 to 1000000 calls\/s, written in plain decimal digits/],
    [
      ["set", "--retry-min-per-minute", "1e300"],
      /--retry-min-per-minute must be a whole number from 0 to 1000000, written in plain decimal digits/,
    ],
    [["set", "--burst", "1.5"], /--burst must be a whole number/],
    [["show", "--rate", "3"], /show takes only --key/],
    [["show", "--key", "has space"], /--key must be 1-128 printable ASCII characters/],
  ])("rejects `limits %j` with a usage message", async (args, message) => {
    const { env: e } = env();
    const r = await runCli(["limits", ...args], e);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(message);
  });

  // Text that is no plain decimal number ("1e9" is out of range too) is refused with the setting's
  // rule, its bounds included, not only "must be a decimal number": exit 2, one line, no stack.
  it.each([
    [
      "--burst",
      "1e9",
      "--burst must be a whole number from 1 to 1000000, written in " +
        'plain decimal digits (no exponent, sign or hex), got "1e9"',
    ],
    [
      "--rate",
      "2e6",
      "--rate must be from 0.001 to 1000000 calls/s, written in " +
        'plain decimal digits (no exponent, sign or hex), got "2e6"',
    ],
    [
      "--min-rate",
      "-1",
      "--min-rate must be from 0.001 to 1000000 calls/s, written in " +
        'plain decimal digits (no exponent, sign or hex), got "-1"',
    ],
    [
      "--retry-ratio",
      "1e1",
      '--retry-ratio must be from 0 to 1, written in plain decimal digits (no exponent, sign or hex), got "1e1"',
    ],
    [
      "--retry-min-per-minute",
      "",
      "--retry-min-per-minute must be a whole number from 0 to 1000000, " +
        'written in plain decimal digits (no exponent, sign or hex), got ""',
    ],
  ])("refuses `limits set %s %j` naming the option and its bounds, exit 2", async (flag, value, message) => {
    const { prefix, env: e } = env();
    // "=": parseArgs would take "-1" alone for an option
    const r = await runCli(["limits", "set", `${flag}=${value}`], e);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
    expect(r.stderr).not.toMatch(/decimal number|\n\s+at /);
    expect(await redis.exists(`${prefix}:ratelimit:default`)).toBe(0);
  });

  it("refuses a floor above the ceiling in force when only one of them is given", async () => {
    const { prefix, env: e } = env();
    expect((await runCli(["limits", "set", "--rate", "5"], e)).code).toBe(0);
    const r = await runCli(["limits", "set", "--min-rate", "50"], e);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--min-rate must be ≤ rate \(5 calls\/s\)/);
    expect(await redis.hget(`${prefix}:ratelimit:default`, "minRate")).not.toBe("50");
  });

  it("is listed in --help", async () => {
    const r = await runCli(["--help"]);
    expect(r.stdout).toMatch(/^ {2}limits\s/m);
  });
});
