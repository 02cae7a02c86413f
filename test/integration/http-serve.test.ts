import { existsSync, readFileSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { PROCESS_START_MS, runCli, sigtermOnReadyLine, sigtermTestTimeout, startCli } from "../helpers/cli.js";
import { deletePrefix, newRedis, REDIS_URL, uniquePrefix } from "../helpers/redis.js";
import { waitFor } from "../helpers/wait.js";
import { freePort } from "../helpers/net.js";

// The built CLI (`npm test` builds first); skipped when dist predates the serve command.
const built = existsSync(new URL("../../dist/src/cli/commands/serve.js", import.meta.url));
const TOKEN = "serve-cli-token-0123456789";

describe.skipIf(!built)("pc-invitations serve (CLI process)", () => {
  const redis = newRedis();
  const prefix = uniquePrefix("http-serve");
  afterAll(async () => {
    await deletePrefix(redis, prefix);
    redis.disconnect();
  });

  it("refuses to start without HTTP_AUTH_TOKENS, saying how to opt out", async () => {
    const r = await runCli(["serve"], { REDIS_URL, QUEUE_PREFIX: prefix });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("HTTP_AUTH_TOKENS: must be set");
    expect(r.stderr).toContain("HTTP_AUTH_DISABLED=true");
  });

  it("prints the committed OpenAPI document with --print-openapi", async () => {
    const r = await runCli(["serve", "--print-openapi"]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(
      JSON.parse(readFileSync(new URL("../../openapi.json", import.meta.url), "utf8")),
    );
  });

  it(
    "exits 0 on a SIGTERM sent the moment it logs that it is listening " +
      "(its handler is in place before it says so), three starts in a row",
    async () => {
      // A race against a handler installed too late: one start catches it about one time in three,
      // so three starts (one after the other, not to load the machine).
      const runs: Array<{ sent: boolean; code?: number | null; signal?: NodeJS.Signals | null; stderr?: string }> = [];
      for (let i = 0; i < 3; i++) {
        runs.push(
          await sigtermOnReadyLine(
            ["serve"],
            {
              REDIS_URL,
              QUEUE_PREFIX: prefix,
              HTTP_HOST: "127.0.0.1",
              HTTP_PORT: "0",
              HTTP_AUTH_TOKENS: TOKEN,
              LOG_LEVEL: "info",
            },
            /Server listening at/,
          ),
        );
      }
      for (const run of runs)
        expect({ sent: run.sent, code: run.code, signal: run.signal }, run.stderr).toEqual({
          sent: true,
          code: 0,
          signal: null,
        });
    },
    sigtermTestTimeout(3),
  );

  it(
    "serves, logs one line per request without token or body, and exits 0 on SIGTERM",
    async () => {
      const port = await freePort();
      const p = startCli(["serve"], {
        REDIS_URL,
        QUEUE_PREFIX: prefix,
        HTTP_HOST: "127.0.0.1",
        HTTP_PORT: String(port),
        HTTP_AUTH_TOKENS: TOKEN,
        LOG_LEVEL: "info",
      });
      const base = `http://127.0.0.1:${port}`;
      await waitFor(
        async () => (await fetch(`${base}/healthz`).catch(() => undefined))?.ok,
        PROCESS_START_MS,
        "serve to listen",
      );
      const res = await fetch(`${base}/v1/acceptances`, {
        method: "POST",
        headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json", "x-request-id": "cli-req-1" },
        body: JSON.stringify({
          catalog: "AWS",
          identifier: "pacinv-SERVECLI00001",
          metadata: { secret: "body-value-xyz" },
        }),
      });
      expect(res.status).toBe(202);
      p.child.kill("SIGTERM");
      const run = await p.exited;
      expect(run.code).toBe(0);
      const lines = run.stderr
        .split("\n")
        .filter((l) => l.startsWith("{"))
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(lines.find((l) => l.requestId === "cli-req-1")).toMatchObject({
        method: "POST",
        route: "/v1/acceptances",
        statusCode: 202,
        msg: "request",
      });
      expect(run.stderr).not.toContain(TOKEN);
      expect(run.stderr).not.toContain("body-value-xyz");
      expect(run.stderr).not.toContain("SERVECLI");
    },
    PROCESS_START_MS + 60_000,
  );
});
