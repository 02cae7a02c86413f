import { describe, expect, it } from "vitest";
import { loadConfig, redactUrl } from "../../src/config/load-config.js";
import { ConfigError } from "../../src/errors/index.js";

describe("loadConfig", () => {
  it("applies documented defaults, with a hash-tagged prefix for Redis Cluster", () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ REDIS_URL: "redis://127.0.0.1:6379", QUEUE_PREFIX: "{pci}", AWS_REGION: "us-east-1", WORKER_CONCURRENCY: 4 });
    expect(c.PARTNERCENTRAL_ENDPOINT).toBeUndefined();
    expect(Object.isFrozen(c)).toBe(true);
  });
  it("reads and coerces variables; empty strings mean unset", () => {
    const c = loadConfig({ WORKER_CONCURRENCY: "8", RATE_LIMIT_RPS: "20", PARTNERCENTRAL_ENDPOINT: "", BACKOFF_JITTER: "0.2" });
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
  it("redacts passwords in URLs", () => {
    expect(redactUrl("redis://user:hunter2@h:6379/0")).toBe("redis://user:***@h:6379/0");
    expect(redactUrl("redis://h:6379")).toBe("redis://h:6379");
  });
});
