import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PartnerCentralEmulator } from "../../src/emulator/index.js";
import { runCli, sigtermOnReadyLine, sigtermTestTimeout } from "../helpers/cli.js";
import { deletePrefix, newRedis, REDIS_URL, uniquePrefix } from "../helpers/redis.js";

const redis = newRedis();
let emulator: PartnerCentralEmulator;
const prefix = uniquePrefix("cli-schedules");
beforeAll(async () => {
  emulator = await PartnerCentralEmulator.start();
});
afterAll(async () => {
  await deletePrefix(redis, prefix);
  await emulator.close();
  redis.disconnect();
});

describe("pc-invitations schedules list|remove", () => {
  it(
    "lists the schedule a stopped discover --every left, removes it, and says so when there is none",
    async () => {
      const env = {
        REDIS_URL,
        QUEUE_PREFIX: prefix,
        PARTNERCENTRAL_ENDPOINT: emulator.url,
        LOG_LEVEL: "info",
      };
      const none = await runCli(["schedules", "list", "--json"], env);
      expect(none.code, none.stderr).toBe(0);
      expect(JSON.parse(none.stdout)).toEqual({ count: 0, schedules: [] });

      const stopped = await sigtermOnReadyLine(
        ["discover", "--catalog", "AWS", "--every", "1h", "--dry-run"],
        env,
        /discovery schedule set for the fleet/,
      );
      expect({ sent: stopped.sent, code: stopped.code }, stopped.stderr).toEqual({ sent: true, code: 0 });

      const listed = await runCli(["schedules", "list"], env);
      expect(listed.code, listed.stderr).toBe(0);
      const schedules = JSON.parse(listed.stdout).schedules;
      expect(schedules).toEqual([
        expect.objectContaining({
          id: "discover",
          queue: "invitation-discovery",
          everyMs: 3_600_000,
          discovery: expect.objectContaining({ catalogs: ["AWS"], dryRun: true }),
        }),
      ]);
      const table = await runCli(["schedules", "list", "--output", "table"], env);
      expect(table.stdout).toMatch(/^discover {2}every 1h {2}next \S+/m);
      expect(table.stdout.trim().split("\n").at(-1)).toContain("1 discovery schedule(s)");

      const removed = await runCli(["schedules", "remove"], env);
      expect(removed.code, removed.stderr).toBe(0);
      expect(removed.stdout).toContain("removed schedule discover");
      expect(JSON.parse((await runCli(["schedules", "list"], env)).stdout).count).toBe(0);

      const again = await runCli(["schedules", "remove", "--json"], env);
      expect(again.code).toBe(1);
      expect(JSON.parse(again.stdout)).toEqual({ removed: [], missing: ["discover"] });
    },
    sigtermTestTimeout(1) + 6 * 30_000,
  );
});
