import { Writable } from "node:stream";
import { inspect } from "node:util";
import { pino } from "pino";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { FastifyInstance } from "fastify";
import { createProducer, RedisAuthError, type Producer } from "../../src/index.js";
import { buildHttpServer } from "../../src/http/build-http-server.js";
import { createRedis } from "../../src/store/redis/connection.js";
import { loadConfig } from "../../src/config/load-config.js";
import { createLogger } from "../../src/observability/logger.js";
import { startRedisServer, type OwnRedis } from "../helpers/redis-server.js";
import { uniquePrefix } from "../helpers/redis.js";
import { waitFor } from "../helpers/wait.js";
import { expectProblem } from "../helpers/problem.js";

const PASSWORD = "auth-test-pw-7f3c9a";
const ROTATED = "auth-test-rotated-2b8e41";
const TOKEN = "redis-auth-token-0123456789";
const request = (n: number) => ({ catalog: "AWS", identifier: `pacinv-AUTH${String(n).padStart(9, "0")}` });

let cleanup: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const fn of cleanup.reverse()) await fn();
  cleanup = [];
  vi.restoreAllMocks();
});

/** A redis-server of this test's own that requires PASSWORD. */
async function securedRedis(): Promise<OwnRedis> {
  const own = await startRedisServer({ password: PASSWORD });
  cleanup.push(() => own.stop());
  return own;
}

describe("RedisAuthError", () => {
  it(
    "createProducer(...).enqueue throws it for a wrong password and for " +
      "none, naming the user and URL but never a password, and writes nothing",
    async () => {
      const own = await securedRedis();
      const prefix = uniquePrefix("auth-lib");
      const attempt = async (url: string, call: (p: Producer) => Promise<unknown>) => {
        const producer = createProducer({ redis: url, prefix });
        try {
          return await call(producer).then(
            () => expect.unreachable("the enqueue was accepted"),
            (err: unknown) => err,
          );
        } finally {
          await producer.close();
        }
      };

      const wrong = await attempt(`redis://:wrong-${PASSWORD}@127.0.0.1:${own.port}`, (p) => p.enqueue(request(1)));
      expect(wrong).toBeInstanceOf(RedisAuthError);
      expect(wrong).toMatchObject({
        name: "RedisAuthError",
        code: "REDIS_AUTH",
        reason: "wrong-password",
        username: "default",
        url: `redis://:***@127.0.0.1:${own.port}`,
      });
      expect((wrong as Error).message).toBe(
        `Redis at redis://:***@127.0.0.1:${own.port} refused the password for user "default"`,
      );

      const none = await attempt(`redis://127.0.0.1:${own.port}`, (p) => p.enqueueMany([request(2), request(3)]));
      expect(none).toBeInstanceOf(RedisAuthError);
      expect(none).toMatchObject({
        code: "REDIS_AUTH",
        reason: "password-required",
        url: `redis://127.0.0.1:${own.port}`,
      });

      for (const err of [wrong, none])
        expect(`${(err as Error).message} ${JSON.stringify(err)}`).not.toContain(PASSWORD);
      expect(await own.admin.keys(`${prefix}*`)).toEqual([]);
    },
  );

  it(
    "HTTP: a password rotated under the server answers 503 REDIS_UNAVAILABLE naming " +
      "the refused credentials, never a password, and 202 again once it is back",
    async () => {
      const own = await securedRedis();
      // BullMQ prints the errors of a queue without an 'error' listener with console.error, whole:
      // the refused AUTH's arguments (the password) included.
      const printed: string[] = [];
      vi.spyOn(console, "error").mockImplementation(
        (...args: unknown[]) =>
          void printed.push(
            args.map((a) => (a instanceof Error ? `${a.stack} ${JSON.stringify(a)}` : String(a))).join(" "),
          ),
      );

      const prefix = uniquePrefix("auth-http");
      const url = `redis://:${PASSWORD}@127.0.0.1:${own.port}`;
      // As `serve` wires it: one connection for the producer and the server.
      const redis = createRedis(url);
      const connectionErrors: string[] = [];
      redis.on("error", (err: Error) => connectionErrors.push(err.message));
      cleanup.push(() => redis.disconnect());
      const producer = createProducer({ redis, prefix });
      cleanup.push(() => producer.close());
      const config = loadConfig(
        {},
        {
          REDIS_URL: url,
          QUEUE_PREFIX: prefix,
          HTTP_AUTH_TOKENS: TOKEN,
          HTTP_RETRY_AFTER_SECONDS: 3,
          LOG_LEVEL: "silent",
        },
      );
      const app: FastifyInstance = await buildHttpServer({
        producer,
        redis,
        config,
        logger: createLogger({ level: "silent" }),
      });
      cleanup.push(() => app.close());
      const headers = { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" };
      const post = (n: number) => app.inject({ method: "POST", url: "/v1/acceptances", headers, payload: request(n) });

      const before = await post(1);
      expect(before.statusCode, before.body).toBe(202);

      // The operator rotates the password and the server's connections drop: each reconnect sends the
      // old password and is refused (WRONGPASS).
      await own.admin.config("SET", "requirepass", ROTATED);
      await own.admin.call("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes");
      await waitFor(
        () => connectionErrors.some((m) => m.startsWith("WRONGPASS")) || undefined,
        10_000,
        "a refused reconnect",
      );

      const answers = {
        "POST /v1/acceptances": await post(2),
        "POST /v1/acceptances/batch": await app.inject({
          method: "POST",
          url: "/v1/acceptances/batch",
          headers,
          payload: { requests: [request(3)] },
        }),
        "GET /v1/acceptances/{id}": await app.inject({
          method: "GET",
          url: `/v1/acceptances/AWS.${request(1).identifier}.x`,
          headers,
        }),
      };
      for (const [route, res] of Object.entries(answers)) {
        expect(res.statusCode, `${route}: ${res.body}`).toBe(503);
        expect(res.headers["retry-after"]).toBe("3");
        expectProblem({ statusCode: res.statusCode, headers: res.headers, body: res.json() }, "REDIS_UNAVAILABLE", {
          detail: "Redis refused our credentials; retry later",
        });
        expect(res.body).not.toContain(PASSWORD);
        expect(res.body).not.toContain(ROTATED);
      }

      // The old password works again: so does the server, on the same connection.
      await own.admin.config("SET", "requirepass", PASSWORD);
      await waitFor(
        async () => (await post(4)).statusCode === 202 || undefined,
        15_000,
        "a 202 once the password is back",
      );
      expect(printed.join("\n")).not.toContain(PASSWORD);
    },
  );
});

describe("RedisAuthError carries no password", () => {
  it(
    "neither inspected, serialized, logged (by our logger or a plain pino) nor in the HTTP answer, " +
      "though its cause is still Redis's reply",
    async () => {
      const own = await securedRedis();
      const prefix = uniquePrefix("auth-cause");
      const wrong = `wrong-${PASSWORD}`;
      const producer = createProducer({ redis: `redis://:${wrong}@127.0.0.1:${own.port}`, prefix });
      cleanup.push(() => producer.close());
      const err = await producer.enqueue(request(1)).then(
        () => expect.unreachable("the enqueue was accepted"),
        (e: unknown) => e as RedisAuthError,
      );
      expect(err).toBeInstanceOf(RedisAuthError);
      // Redis's reply is kept as the cause, without the command ioredis hung on it (HELLO 3 AUTH default <password>).
      expect(err.cause).toBeInstanceOf(Error);
      expect((err.cause as Error).message).toMatch(/^WRONGPASS/);
      expect(err.cause).not.toHaveProperty("command");

      const lines: string[] = [];
      const sink = new Writable({
        write(chunk, _enc, done) {
          lines.push(String(chunk));
          done();
        },
      });
      createLogger({ level: "info", destination: sink }).error({ err }, "enqueue failed");
      pino(sink).error({ err }, "enqueue failed");

      // The HTTP answer of an enqueue that meets it, and the server's log line about it.
      const redis = createRedis(`redis://:${PASSWORD}@127.0.0.1:${own.port}`);
      cleanup.push(() => redis.disconnect());
      const config = loadConfig(
        {},
        {
          REDIS_URL: `redis://:${PASSWORD}@127.0.0.1:${own.port}`,
          QUEUE_PREFIX: prefix,
          HTTP_AUTH_TOKENS: TOKEN,
          HTTP_DASHBOARD: false,
        },
      );
      const app = await buildHttpServer({
        producer,
        redis,
        config,
        logger: createLogger({ level: "info", destination: sink }),
      });
      cleanup.push(() => app.close());
      const res = await app.inject({
        method: "POST",
        url: "/v1/acceptances",
        headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
        payload: request(2),
      });
      expect(res.statusCode, res.body).toBe(503);
      await new Promise((r) => setImmediate(r));

      for (const [what, text] of [
        ["util.inspect", inspect(err, { depth: null, showHidden: true })],
        ["JSON.stringify", JSON.stringify(err)],
        ["String", `${String(err)} ${err.stack}`],
        ["log lines", lines.join("")],
        ["HTTP answer", res.body],
      ] as const) {
        expect(text, what).not.toContain(PASSWORD);
      }
      expect(lines.join("")).toContain("enqueue failed");
    },
  );
});
