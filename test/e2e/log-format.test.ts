import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger, logFormatFor } from "../../src/observability/logger.js";
import { runCli, sigtermOnReadyLine, sigtermTestTimeout } from "../helpers/cli.js";
import { REDIS_URL, uniquePrefix } from "../helpers/redis.js";

function sink() {
  let text = "";
  const stream = new Writable({
    write(chunk, _enc, done) {
      text += String(chunk);
      done();
    },
  });
  return { stream, text: () => text };
}

describe("LOG_FORMAT (issue 19: readable logs on a terminal, JSON otherwise)", () => {
  it("pretty is a readable line, json one object per line; secrets are scrubbed in both", async () => {
    for (const format of ["pretty", "json"] as const) {
      const out = sink();
      const logger = createLogger({ format, destination: out.stream as never, name: "t" });
      logger.info({ redisUrl: "redis://u:hunter2@h:6379", n: 1 }, "hello there");
      logger.flush();
      await new Promise((r) => setTimeout(r, 50));
      const text = out.text();
      expect(text).toContain("hello there");
      expect(text).not.toContain("hunter2");
      if (format === "json") expect(JSON.parse(text.trim())).toMatchObject({ msg: "hello there", n: 1 });
      else {
        expect(text).toMatch(/INFO.*\(t\): hello there/);
        expect(() => JSON.parse(text.trim())).toThrow();
      }
    }
    expect(logFormatFor({ isTTY: true })).toBe("pretty");
    expect(logFormatFor({ isTTY: false })).toBe("json");
    expect(logFormatFor({})).toBe("json");
  });

  it(
    "the CLI logs JSON on a pipe by default, pretty with LOG_FORMAT=pretty, on stderr only",
    async () => {
      const prefix = uniquePrefix("cli-log-format");
      const env = { REDIS_URL, QUEUE_PREFIX: prefix, PARTNERCENTRAL_ENDPOINT: "http://127.0.0.1:9" };
      const pretty = await sigtermOnReadyLine(["worker"], { ...env, LOG_FORMAT: "pretty" }, /worker started/);
      expect({ sent: pretty.sent, code: pretty.code }, pretty.stderr).toEqual({ sent: true, code: 0 });
      const lines = pretty.stderr!.trim().split("\n");
      expect(lines.some((l) => /INFO.*worker started/.test(l))).toBe(true);
      expect(lines.filter((l) => l.startsWith("{"))).toEqual([]);

      const bad = await runCli(["worker"], { ...env, LOG_FORMAT: "fancy" });
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/LOG_FORMAT: /);
    },
    sigtermTestTimeout(1) + 30_000,
  );
});
