import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runCli, startCli, stopCli } from "../helpers/cli.js";
import { deletePrefix, newRedis, REDIS_URL, uniquePrefix } from "../helpers/redis.js";
import { waitFor } from "../helpers/wait.js";

const dir = mkdtempSync(join(tmpdir(), "pci-health-"));
const redis = newRedis();
const prefix = uniquePrefix("health");
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await deletePrefix(redis, prefix);
  redis.disconnect();
});

describe("pc-invitations healthcheck (the Docker HEALTHCHECK)", () => {
  it("is healthy while a worker runs, and not once it stopped", async () => {
    const file = join(dir, "worker.health");
    const worker = startCli(["worker"], {
      REDIS_URL,
      QUEUE_PREFIX: prefix,
      HEALTH_FILE: file,
      PARTNERCENTRAL_ENDPOINT: "http://127.0.0.1:9",
    });
    try {
      const healthy = await waitFor(
        async () => {
          const r = await runCli(["healthcheck"], { HEALTH_FILE: file });
          return r.code === 0 ? r : undefined;
        },
        30_000,
        "a healthy beat",
      );
      expect(healthy.stdout).toMatch(/^healthy \(pid \d+, beat at /);
    } finally {
      expect((await stopCli(worker)).code).toBe(0);
    }
    const after = await runCli(["healthcheck", "--file", file]);
    expect(after.code).toBe(1);
    expect(after.stderr.trim()).toBe(
      `pc-invitations healthcheck: no heartbeat at ${file} (process not started, or stopped)`,
    );
  });

  it("says unhealthy with the process's reason, and stale when the beats stopped", async () => {
    const file = join(dir, "hand-written.health");
    writeFileSync(
      file,
      JSON.stringify({ pid: 1, at: new Date().toISOString(), healthy: false, reason: "Redis connection reconnecting" }),
    );
    const unhealthy = await runCli(["healthcheck", "--file", file]);
    expect(unhealthy.code).toBe(1);
    expect(unhealthy.stderr).toContain("unhealthy: Redis connection reconnecting");
    writeFileSync(file, JSON.stringify({ pid: 1, at: new Date(Date.now() - 120_000).toISOString(), healthy: true }));
    const stale = await runCli(["healthcheck", "--file", file, "--max-age-seconds", "30"]);
    expect(stale.code).toBe(1);
    expect(stale.stderr).toMatch(/last heartbeat 1\d\d s ago \(over 30 s\): process hung or gone/);
  });

  it("refuses to guess without a file", async () => {
    const r = await runCli(["healthcheck"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("no heartbeat file: set HEALTH_FILE or pass --file");
  });
});
