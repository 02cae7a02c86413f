/**
 * `pc-invitations held` and `decide` as processes (the built CLI): the held list of a discovery,
 * a decision recorded as --as, the same decision again answered with the first, another refused
 * (exit 1), bad arguments refused in one line (exit 2).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PartnerCentralEmulator } from "../../src/emulator/index.js";
import { runCli } from "../helpers/cli.js";
import { deletePrefix, newRedis, REDIS_URL, uniquePrefix } from "../helpers/redis.js";

const redis = newRedis();
let emulator: PartnerCentralEmulator;
beforeAll(async () => {
  emulator = await PartnerCentralEmulator.start();
});
afterAll(async () => {
  await emulator.close();
  redis.disconnect();
});

const env = (prefix: string) => ({
  REDIS_URL,
  QUEUE_PREFIX: prefix,
  PARTNERCENTRAL_ENDPOINT: emulator.url,
  RATE_LIMIT_RPS: "1000",
  RATE_LIMIT_BURST: "1000",
  LOG_LEVEL: "warn",
});

describe("pc-invitations held and decide", () => {
  it("lists what discovery held, decides as --as, answers a second decider with the first", async () => {
    const prefix = uniquePrefix("cli-held");
    const [a, b] = [
      emulator.seedInvitation({ expiresAt: new Date(Date.now() + 7_200_000).toISOString() }),
      emulator.seedInvitation({ expiresAt: new Date(Date.now() + 3_600_000).toISOString() }),
    ];
    try {
      const discovered = await runCli(["discover", "--catalog", "AWS"], env(prefix));
      expect(discovered.code, discovered.stderr).toBe(0);
      const listed = await runCli(["held", "--output", "json"], env(prefix));
      expect(listed.code, listed.stderr).toBe(0);
      const page = JSON.parse(listed.stdout) as { items: Array<{ identifier: string; state: string }> };
      expect(page.items.map((i) => i.identifier)).toEqual([b!.identifier, a!.identifier]);
      const table = await runCli(["held", "--output", "table"], env(prefix));
      expect(table.stdout).toMatch(new RegExp(`^AWS\\.${b!.identifier} .* (59m|1h) +default$`, "m"));

      const first = await runCli(["decide", `AWS.${a!.identifier}`, "accept", "--as", "alice"], env(prefix));
      expect(first.code, first.stderr).toBe(0);
      expect(first.stdout).toMatch(/accept enqueued as alice/);
      const again = await runCli(["decide", `AWS.${a!.identifier}`, "accept", "--as", "bob"], env(prefix));
      expect(again.code, again.stderr).toBe(0);
      expect(again.stdout).toMatch(/accept already decided by alice/);
      const other = await runCli(["decide", `AWS.${a!.identifier}`, "reject", "--as", "bob"], env(prefix));
      expect(other.code).toBe(1);
      expect(other.stderr).toMatch(/decided otherwise already: accept by alice/);

      const bad = await runCli(["decide", `AWS.${b!.identifier}`, "maybe"], env(prefix));
      expect(bad.code).toBe(2);
      // the error on one line, then the hint (docs/cli.md)
      expect(bad.stderr.trim().split("\n")).toHaveLength(2);
      expect(bad.stderr.trim().split("\n")[1]).toMatch(/^Run 'pc-invitations .*--help'/);
      expect(bad.stderr).toMatch(/accept\|reject: must be "accept" or "reject"/);
      const badLimit = await runCli(["held", "--limit", "0"], env(prefix));
      expect(badLimit.code).toBe(2);
      expect(badLimit.stderr).toMatch(/--limit: must be a whole number from 1 to 200/);
    } finally {
      await deletePrefix(redis, prefix);
    }
  }, 120_000);
});
