import { readdirSync, readFileSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { loadConfig, redactUrl } from "../../src/config/load-config.js";
import { ConfigError } from "../../src/errors/index.js";
import { CONFIG_DEFAULTS, configSchema, MAX_TIMER_MS } from "../../src/schemas/config.js";

const SRC = fileURLToPath(new URL("../../src/", import.meta.url));

/** The code of a module without its comments (doc comments may name a default for readers). */
function codeOf(file: string): string {
  return readFileSync(file, "utf8")
    .replace(/\/\*[\s\S]*?\*\//g, "")
    .replace(/^\s*\/\/.*$/gm, "");
}

describe("loadConfig", () => {
  it("applies documented defaults, with a hash-tagged prefix for Redis Cluster", () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      REDIS_URL: "redis://127.0.0.1:6379",
      QUEUE_PREFIX: "{pci}",
      AWS_REGION: "us-east-1",
      WORKER_CONCURRENCY: 4,
    });
    expect(c.PARTNERCENTRAL_ENDPOINT).toBeUndefined();
    expect(Object.isFrozen(c)).toBe(true);
  });
  it("reads and coerces variables; empty strings mean unset", () => {
    const c = loadConfig({
      WORKER_CONCURRENCY: "8",
      RATE_LIMIT_RPS: "20",
      PARTNERCENTRAL_ENDPOINT: "",
      BACKOFF_JITTER: "0.2",
    });
    expect(c.WORKER_CONCURRENCY).toBe(8);
    expect(c.RATE_LIMIT_RPS).toBe(20);
    expect(c.BACKOFF_JITTER).toBe(0.2);
    expect(c.PARTNERCENTRAL_ENDPOINT).toBeUndefined();
  });
  it("names every bad variable and its rule", () => {
    try {
      loadConfig({ WORKER_CONCURRENCY: "lots", REDIS_URL: "http://x", BACKOFF_JITTER: "2", LOG_LEVEL: "loud" });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const fields = Object.fromEntries((err as ConfigError).issues.map((i) => [i.field, i.rule]));
      expect(fields.WORKER_CONCURRENCY).toMatch(/number/);
      expect(fields.REDIS_URL).toMatch(/redis:\/\//);
      expect(fields.BACKOFF_JITTER).toMatch(/≤ 1/);
      expect(fields.LOG_LEVEL).toBeDefined();
    }
  });
  it("takes HTTP_ADMIN_TOKENS as tokens of their own: 16 characters or more, none also an ingest token", () => {
    const admin = "admin-token-0123456789";
    expect(loadConfig({ HTTP_AUTH_TOKENS: "ingest-token-0123456789", HTTP_ADMIN_TOKENS: ` ${admin} ,` })).toMatchObject(
      {
        HTTP_ADMIN_TOKENS: [admin],
      },
    );
    expect(loadConfig({}).HTTP_ADMIN_TOKENS).toBeUndefined();
    const refused = (env: Record<string, string>) => {
      try {
        loadConfig(env);
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        return (err as ConfigError).issues;
      }
      return expect.unreachable("accepted");
    };
    const shared = refused({ HTTP_AUTH_TOKENS: `ingest-token-0123456789,${admin}`, HTTP_ADMIN_TOKENS: admin });
    expect(shared).toEqual([
      {
        field: "HTTP_ADMIN_TOKENS",
        rule: "must not repeat a token of HTTP_AUTH_TOKENS (the dashboard needs tokens of its own)",
      },
    ]);
    expect(JSON.stringify(shared)).not.toContain(admin);
    expect(refused({ HTTP_ADMIN_TOKENS: "short" })).toEqual([
      { field: "HTTP_ADMIN_TOKENS", rule: "each token must be at least 16 characters" },
    ]);
  });
  it("on a Redis Cluster, wants a hash tag in QUEUE_PREFIX (without one every script fails with CROSSSLOT)", () => {
    for (const prefix of ["pci", "{}pci", "pci}{", "{}"]) {
      const err = (() => {
        try {
          loadConfig({ REDIS_CLUSTER: "true", QUEUE_PREFIX: prefix });
        } catch (e) {
          return e;
        }
      })();
      expect(err, prefix).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).issues).toEqual([
        { field: "QUEUE_PREFIX", rule: "must hold a Redis Cluster hash tag, e.g. {pci}, when REDIS_CLUSTER is true" },
      ]);
    }
    for (const prefix of ["{pci}", "app{pci}", "{a}b", "x{y}z{"])
      expect(loadConfig({ REDIS_CLUSTER: "true", QUEUE_PREFIX: prefix }).QUEUE_PREFIX).toBe(prefix);
    expect(loadConfig({ QUEUE_PREFIX: "pci" }).QUEUE_PREFIX).toBe("pci"); // one node: any prefix
  });
  it(
    "bounds HTTP_MAX_BATCH at 10,000 (a batch is one Redis " + "script, which must end within HTTP_REDIS_TIMEOUT_MS)",
    () => {
      expect(loadConfig({ HTTP_MAX_BATCH: "10000" }).HTTP_MAX_BATCH).toBe(10_000);
      expect(() => loadConfig({ HTTP_MAX_BATCH: "10001" })).toThrow(/HTTP_MAX_BATCH: must be ≤ 10000/);
    },
  );
  it("refuses every duration in ms above what a Node timer can wait (2^31 − 1: more fires after 1 ms)", () => {
    const durations = Object.keys(configSchema.shape).filter((k) => k.endsWith("_MS"));
    expect(durations.length).toBeGreaterThan(10);
    for (const name of durations) {
      const err = (() => {
        try {
          loadConfig({ [name]: String(MAX_TIMER_MS + 1) });
        } catch (e) {
          return e;
        }
      })();
      expect(err, name).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).issues.find((i) => i.field === name)?.rule, name).toMatch(
        /must be ≤ (2147483647|3600000)/,
      );
    }
    expect(
      loadConfig({ SWEEP_INTERVAL_MS: String(MAX_TIMER_MS), AWS_REQUEST_TIMEOUT_MS: String(MAX_TIMER_MS) })
        .SWEEP_INTERVAL_MS,
    ).toBe(MAX_TIMER_MS);
  });
  it("keeps one source of defaults: no module but the config schema spells a default of its own", () => {
    const files = readdirSync(SRC, { recursive: true, encoding: "utf8" })
      .filter((f) => f.endsWith(".ts"))
      .map((f) => join(SRC, f));
    const names = [
      "REDIS_URL",
      "QUEUE_PREFIX",
      "REQUESTS_QUEUE",
      "OUTCOMES_QUEUE",
      "DISCOVERY_QUEUE",
      "AWS_REGION",
    ] as const;
    const spelled = files
      .filter((f) => relative(SRC, f) !== join("schemas", "config.ts"))
      // The emulator stands for AWS: the region it stamps on events is AWS's (us-east-1), not our default.
      .filter((f) => !relative(SRC, f).startsWith(`emulator${sep}`))
      .flatMap((f) =>
        names
          .filter((n) => codeOf(f).includes(JSON.stringify(CONFIG_DEFAULTS[n])))
          .map((n) => `${relative(SRC, f)}: ${n}`),
      );
    expect(spelled, "read these from CONFIG_DEFAULTS").toEqual([]);
  });
  it("redacts passwords in URLs", () => {
    expect(redactUrl("redis://user:hunter2@h:6379/0")).toBe("redis://user:***@h:6379/0");
    expect(redactUrl("redis://h:6379")).toBe("redis://h:6379");
  });
});
