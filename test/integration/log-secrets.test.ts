import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROCESS_START_MS, runCli, startCli, stopCli } from "../helpers/cli.js";
import { freePort } from "../helpers/net.js";
import { uniquePrefix } from "../helpers/redis.js";
import { waitFor } from "../helpers/wait.js";
import { fillUntilFull, startRedisServer, unfill, type OwnRedis } from "../helpers/redis-server.js";
import { maskSecretsInText, redactUrl } from "../../src/config/redact.js";
import { scrubLogValue } from "../../src/observability/logger.js";
import { expectProblem } from "../helpers/problem.js";

/**
 * Logs never hold a Redis password or a request body, whatever the error path: every line the
 * processes write is captured and searched.
 */
const PASSWORD = "pw-7f3c9a1e-never-log-me";
const TOKEN = "log-secrets-token-0123456789";
const METADATA_VALUE = "crm-secret-6b2d8e";

let secured: OwnRedis;
let full: OwnRedis;
beforeAll(async () => {
  [secured, full] = await Promise.all([
    startRedisServer({ password: PASSWORD }),
    startRedisServer({ args: ["--maxmemory", "2mb", "--maxmemory-policy", "noeviction"] }),
  ]);
});
afterAll(async () => {
  await Promise.all([secured?.stop(), full?.stop()]);
});

describe("no secret and no request body in any log line", () => {
  it(
    "a worker whose Redis password stops working (AUTH refused on reconnect) logs the failures without the password",
    async () => {
      const env = {
        REDIS_URL: `redis://:${PASSWORD}@127.0.0.1:${secured.port}`,
        QUEUE_PREFIX: uniquePrefix("log-auth"),
        LOG_LEVEL: "debug",
        PARTNERCENTRAL_ENDPOINT: "http://127.0.0.1:9",
      };
      const worker = startCli(["worker"], env);
      try {
        await waitFor(
          () => worker.stderr().includes("worker started") || undefined,
          PROCESS_START_MS,
          "the worker to start",
        );
        // Rotate the password under the worker and cut its connections: every reconnect now sends
        // the old password (HELLO 3 AUTH default <password>) and is refused.
        await secured.admin.config("SET", "requirepass", "the-new-one-0000");
        await secured.admin.call("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes");
        // Several error paths: the worker's listener, the connection's, and BullMQ's console.error.
        await waitFor(
          () => (worker.stderr().match(/WRONGPASS/g)?.length ?? 0) >= 10 || undefined,
          20_000,
          "the worker to log the refused password",
        );
      } finally {
        // Not a graceful stop: a worker whose Redis refuses it cannot finish its shutdown quickly.
        worker.child.kill("SIGKILL");
        const run = await worker.exited;
        await secured.admin.config("SET", "requirepass", PASSWORD).catch(() => undefined);
        expect(run.stderr).toMatch(/WRONGPASS/);
        expect(run.stderr + run.stdout).not.toContain(PASSWORD);
        expect(run.stderr).not.toMatch(/"command"|"args"/);
      }
    },
    PROCESS_START_MS + 60_000,
  );

  it("REDIS_URL with ?password= is masked in start-up retries and in the final line", async () => {
    const port = await freePort();
    const r = await runCli(["enqueue", "--catalog", "AWS", "--identifier", "pacinv-ABCDEFGHIJKLM"], {
      REDIS_URL: `redis://127.0.0.1:${port}/0?password=${PASSWORD}`,
      REDIS_STARTUP_TIMEOUT_MS: "600",
      LOG_LEVEL: "debug",
    });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("Redis not reachable yet; retrying");
    expect(r.stderr).toContain("password=***");
    expect(r.stderr + r.stdout).not.toContain(PASSWORD);
    // And with a reachable Redis that refuses it:
    const refused = await runCli(["worker"], {
      REDIS_URL: `${secured.url}?password=wrong-${PASSWORD}`,
      LOG_LEVEL: "debug",
    });
    expect(refused.code).toBe(3);
    expect(refused.stderr + refused.stdout).not.toContain(PASSWORD);
  });

  it(
    "an HTTP request that hits a Redis error logs the error without the request's metadata",
    async () => {
      const prefix = uniquePrefix("log-http");
      const port = await freePort();
      const serve = startCli(["serve"], {
        REDIS_URL: full.url,
        QUEUE_PREFIX: prefix,
        HTTP_AUTH_TOKENS: TOKEN,
        HTTP_PORT: String(port),
        HTTP_HOST: "127.0.0.1",
        LOG_LEVEL: "debug",
      });
      try {
        await waitFor(
          async () => (await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined))?.ok,
          PROCESS_START_MS,
          "serve to listen",
        );
        await fillUntilFull(full.admin);
        const body = {
          catalog: "AWS",
          identifier: "pacinv-LOGSECRET0001",
          correlationId: `corr-${METADATA_VALUE}`,
          metadata: { crm: METADATA_VALUE, nested: { again: METADATA_VALUE } },
        };
        const res = await fetch(`http://127.0.0.1:${port}/v1/acceptances`, {
          method: "POST",
          headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
          body: JSON.stringify(body),
        });
        expectProblem({ status: res.status, headers: res.headers, body: await res.json() }, "REDIS_FULL");
        await waitFor(() => /EXECABORT|OOM/.test(serve.stderr()) || undefined, 10_000, "the error log line");
      } finally {
        await unfill(full.admin);
        const run = await stopCli(serve);
        expect(run.stderr).toMatch(/EXECABORT|OOM/);
        expect(run.stderr).not.toContain(METADATA_VALUE);
        expect(run.stderr).toContain("request refused: Redis");
        expect(run.stderr).not.toContain(TOKEN);
        expect(run.stderr).not.toMatch(/"previousErrors"|"command"/);
      }
    },
    PROCESS_START_MS + 60_000,
  );
});

describe("scrubLogValue and the URL redaction", () => {
  it(
    "drops command arguments from errors, their causes and " + "nested errors, and masks URL credentials everywhere",
    () => {
      const reply = Object.assign(new Error("WRONGPASS invalid username-password pair"), {
        command: { name: "hello", args: ["3", "AUTH", "default", "s3cret"] },
      });
      const execAbort = Object.assign(new Error("EXECABORT Transaction discarded because of previous errors."), {
        previousErrors: [
          Object.assign(new Error("OOM command not allowed"), {
            command: { name: "hset", args: ["k", "payload", '{"crm":"x"}'] },
          }),
        ],
      });
      const wrapped = new Error("enqueue failed for redis://u:s3cret@h:6379?password=s3cret", { cause: execAbort });
      const scrubbed = JSON.stringify(
        scrubLogValue({
          err: reply,
          other: { error: wrapped },
          list: [reply],
          url: "rediss://:s3cret@h/0",
          asObject: new URL("redis://u:s3cret@h:6379"),
          at: new Date(0),
        }),
      );
      expect(scrubbed).toContain('"at":"1970-01-01T00:00:00.000Z"');
      expect(scrubbed).not.toContain("s3cret");
      expect(scrubbed).not.toContain("crm");
      expect(scrubbed).toContain("WRONGPASS");
      expect(scrubbed).toContain("EXECABORT");
      expect(scrubbed).toContain("redis://u:***@h:6379?password=***");
      const circular: Record<string, unknown> = { a: 1 };
      circular.self = circular;
      expect(() => JSON.stringify(scrubLogValue(circular))).not.toThrow();
    },
  );

  it("redactUrl masks the password in the user part and in the query", () => {
    expect(redactUrl("redis://user:hunter2@h:6379/0")).toBe("redis://user:***@h:6379/0");
    expect(redactUrl("redis://h:6379/0?password=hunter2&db=1")).toBe("redis://h:6379/0?password=***&db=1");
    expect(redactUrl("redis://h:6379")).toBe("redis://h:6379");
    expect(maskSecretsInText("see redis://a:b@c and x?token=abc&y=1")).toBe("see redis://a:***@c and x?token=***&y=1");
  });
});
