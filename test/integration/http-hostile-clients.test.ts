import { connect, type Socket } from "node:net";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import type { FastifyInstance } from "fastify";
import { buildHttpServer } from "../../src/http/build-http-server.js";
import { createProducer } from "../../src/producer/producer.js";
import { createRequestControl } from "../../src/app/request-control.js";
import { loadConfig } from "../../src/config/load-config.js";
import { createLogger } from "../../src/observability/logger.js";
import { deletePrefix, newRedis, REDIS_URL, uniquePrefix } from "../helpers/redis.js";
import { expectProblem, parseRawAnswer } from "../helpers/problem.js";
import type { ErrorCode } from "../../src/http/problem-types.js";
import { waitFor } from "../helpers/wait.js";

/**
 * Slow and hostile clients, with real sockets. Timeouts are configured short; the assertions are
 * on outcomes (the socket was closed, the answer had our shape, a real client was served), never
 * on how long anything took.
 */
const TOKEN = "hostile-token-0123456789abcdef";
const redis = newRedis();
const cleanups: Array<() => Promise<unknown>> = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const c of cleanups.splice(0).reverse()) await c();
});
afterAll(() => redis.disconnect());

async function start(
  overrides: Record<string, unknown> = {},
  parts: { control?: boolean } = {},
): Promise<{ app: FastifyInstance; port: number }> {
  const prefix = uniquePrefix("hostile");
  const producer = createProducer({ redis, prefix });
  const config = loadConfig(
    {},
    {
      REDIS_URL,
      QUEUE_PREFIX: prefix,
      HTTP_AUTH_TOKENS: TOKEN,
      LOG_LEVEL: "silent",
      HTTP_HEADERS_TIMEOUT_MS: 400,
      HTTP_REQUEST_TIMEOUT_MS: 800,
      HTTP_KEEP_ALIVE_TIMEOUT_MS: 400,
      HTTP_REDIS_TIMEOUT_MS: 1000,
      HTTP_IDLE_TIMEOUT_MS: 3000,
      ...overrides,
    },
  );
  const requestControl = parts.control ? createRequestControl(config, redis, producer) : undefined;
  const app = await buildHttpServer({
    producer,
    redis,
    config,
    logger: createLogger({ level: "silent" }),
    ...(requestControl ? { requestControl } : {}),
  });
  await app.listen({ port: 0, host: "127.0.0.1" });
  cleanups.push(async () => {
    await app.close();
    await requestControl?.close();
    await producer.close();
    await deletePrefix(redis, prefix);
  });
  return { app, port: (app.server.address() as AddressInfo).port };
}

/** A raw connection that records what it receives and whether the server closed it. */
function rawClient(port: number): { socket: Socket; received: () => string; closed: Promise<void> } {
  const socket = connect(port, "127.0.0.1");
  sockets.push(socket);
  let data = "";
  socket.setEncoding("utf8");
  socket.on("data", (d: string) => (data += d));
  socket.on("error", () => {});
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  return { socket, received: () => data, closed };
}

/** Writes `text` one byte at a time, `everyMs` apart, until the socket closes or the text ends. */
function trickle(socket: Socket, text: string, everyMs: number): void {
  let i = 0;
  const timer = setInterval(() => {
    if (socket.destroyed || i >= text.length) return clearInterval(timer);
    socket.write(text[i++]!);
  }, everyMs);
  socket.once("close", () => clearInterval(timer));
}

const within = <T>(p: Promise<T>, ms: number, what: string) =>
  Promise.race([
    p,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`not within ${ms} ms: ${what}`)), ms)),
  ]);

describe("the HTTP server under slow and hostile clients", () => {
  it("cuts off a request that announces a body and sends nothing, with a 408 of the API's shape", async () => {
    const { port } = await start();
    const c = rawClient(port);
    c.socket.write(
      `POST /v1/acceptances HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\n` +
        "Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n",
    );
    await within(c.closed, 20_000, "the server to close the stalled request");
    expect(c.received()).toMatch(/^HTTP\/1\.1 408 /);
    expectProblem(parseRawAnswer(c.received()), "REQUEST_TIMEOUT", { instance: null });
  });

  it(
    "cuts off a client trickling its headers one byte at a time, and one " +
      "trickling a body it is not authorised to send",
    async () => {
      const { port } = await start();
      const headers = rawClient(port);
      trickle(
        headers.socket,
        `GET /v1/acceptances/AWS.pacinv-ABCDEFGHIJKLM.x HTTP/1.1\r\nHost: x\r\nX-Padding: ${"a".repeat(500)}`,
        50,
      );
      const body = rawClient(port);
      body.socket.write(
        "POST /v1/acceptances HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n",
      );
      trickle(body.socket, "{".repeat(1000), 50);
      await within(Promise.all([headers.closed, body.closed]), 20_000, "both tricklers to be cut off");
      expect(headers.received()).toMatch(/^HTTP\/1\.1 408 /);
      expectProblem(parseRawAnswer(headers.received()), "REQUEST_TIMEOUT", { instance: null });
      // The unauthenticated one got its 401 at once, and the connection was closed with it.
      expect(body.received()).toMatch(/^HTTP\/1\.1 401 /);
      expectProblem(parseRawAnswer(body.received()), "UNAUTHORIZED", { instance: "/v1/acceptances" });
      expect(body.received().toLowerCase()).toContain("connection: close");
    },
  );

  it("closes idle keep-alive connections", async () => {
    const { port } = await start();
    const c = rawClient(port);
    c.socket.write("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    await within(c.closed, 20_000, "the idle keep-alive connection to be closed");
    expect(c.received()).toMatch(/^HTTP\/1\.1 200 /);
  });

  it(
    "closes a connection with no traffic either way after " + "HTTP_IDLE_TIMEOUT_MS, when no other timeout would",
    async () => {
      // The header, request and keep-alive timeouts far off: only the idle timeout can end these.
      const { port } = await start({
        HTTP_HEADERS_TIMEOUT_MS: 200_000,
        HTTP_REQUEST_TIMEOUT_MS: 250_000,
        HTTP_KEEP_ALIVE_TIMEOUT_MS: 250_000,
        HTTP_REDIS_TIMEOUT_MS: 200,
        HTTP_IDLE_TIMEOUT_MS: 1000,
      });
      const silent = rawClient(port);
      const halfway = rawClient(port);
      halfway.socket.write("GET /healthz HTTP/1.1\r\nHost: x\r\n");
      await within(Promise.all([silent.closed, halfway.closed]), 30_000, "the idle connections to be closed");
      expect(silent.received()).toBe("");
    },
  );

  it("keeps serving real clients while the connection cap is full of idle and trickling sockets", async () => {
    // Long timeouts here: the idle sockets stay, only the cap can make room.
    const { app, port } = await start({
      HTTP_MAX_CONNECTIONS: 5,
      HTTP_HEADERS_TIMEOUT_MS: 60_000,
      HTTP_REQUEST_TIMEOUT_MS: 60_000,
      HTTP_IDLE_TIMEOUT_MS: 60_000,
      HTTP_KEEP_ALIVE_TIMEOUT_MS: 60_000,
    });
    const hogs = Array.from({ length: 12 }, () => rawClient(port));
    for (const h of hogs.slice(0, 6))
      trickle(h.socket, `GET /healthz HTTP/1.1\r\nHost: x\r\n${"X-Pad: y\r\n".repeat(500)}`, 100);
    const connections = () =>
      new Promise<number>((resolve, reject) => app.server.getConnections((err, n) => (err ? reject(err) : resolve(n))));
    await waitFor(async () => (await connections()) >= 5 || undefined, 10_000, "the hogs to fill the cap");
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`http://127.0.0.1:${port}/v1/acceptances`, {
        method: "POST",
        headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
        body: JSON.stringify({ catalog: "AWS", identifier: `pacinv-CAPFULL00000${i}` }),
      });
      expect(res.status).toBe(202);
    }
    expect(await connections()).toBeLessThanOrEqual(5);
    // Hogs were closed to make room (the oldest first), not the real clients.
    const closedHogs = (
      await Promise.all(
        hogs.map((h) =>
          Promise.race([h.closed.then(() => 1), new Promise<number>((r) => setTimeout(() => r(0), 100))]),
        ),
      )
    ).reduce((a, b) => a + b, 0);
    expect(closedHogs).toBeGreaterThanOrEqual(12 - 5);
  });

  it("answers what Node's parser refuses with the API's error shape, naming the part at fault", async () => {
    const { port } = await start();
    const cases: Array<[string, number, ErrorCode, string]> = [
      [
        "POST /v1/acceptances HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
        400,
        "INVALID_REQUEST",
        "content-length",
      ],
      [
        "POST /v1/acceptances HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
        400,
        "INVALID_REQUEST",
        "content-length",
      ],
      ["GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n", 400, "INVALID_REQUEST", "(headers)"],
      [`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${"z".repeat(20_000)}\r\n\r\n`, 431, "HEADERS_TOO_LARGE", ""],
    ];
    for (const [raw, status, error, field] of cases) {
      const c = rawClient(port);
      c.socket.write(raw);
      await within(c.closed, 10_000, `an answer to ${JSON.stringify(raw.slice(0, 40))}`);
      expect(c.received(), raw.slice(0, 60)).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
      const answer = parseRawAnswer(c.received());
      expectProblem(answer, error, { instance: null });
      if (field) expect((answer.body as { issues: Array<{ field: string }> }).issues[0]?.field).toBe(field);
    }
  });

  it("answers 404 for ids that collide with BullMQ's own keys, and 400 of the API's shape for a bad URL", async () => {
    const { port } = await start();
    for (const id of [
      "events",
      "meta",
      "id",
      "wait",
      "stalled-check",
      "AWS.pacinv-ABCDEFGHIJKLM.x:lock",
      "AWS.x.y:logs",
    ]) {
      const res = await fetch(`http://127.0.0.1:${port}/v1/acceptances/${encodeURIComponent(id)}`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      expectProblem({ status: res.status, headers: res.headers, body: await res.json() }, "NOT_FOUND", {
        instance: `/v1/acceptances/${encodeURIComponent(id)}`,
      });
    }
    const bad = await fetch(`http://127.0.0.1:${port}/v1/acceptances/%E0%A4%A`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expectProblem({ status: bad.status, headers: bad.headers, body: await bad.json() }, "INVALID_REQUEST", {
      instance: "/v1/acceptances/%E0%A4%A",
      issues: [{ field: "(url)" }],
    });
  });

  it(
    "authenticates first, then answers 404 NOT_FOUND in our words for an " +
      "id too long to be one (509-520 characters, 10 kB), on lookup and " +
      "cancel; a URL over Node's header limit is 431",
    async () => {
      const { port } = await start({}, { control: true });
      const ids = [...Array.from({ length: 12 }, (_, i) => 509 + i), 10_000].map((n) => `AWS.${"a".repeat(n - 4)}`);
      expect(ids.map((id) => id.length)).toEqual([509, 510, 511, 512, 513, 514, 515, 516, 517, 518, 519, 520, 10_000]);
      const call = async (method: "GET" | "POST", path: string, token: boolean) => {
        const res = await fetch(`http://127.0.0.1:${port}${path}`, {
          method,
          headers: token ? { authorization: `Bearer ${TOKEN}` } : {},
        });
        return { status: res.status, headers: res.headers, text: await res.text() };
      };
      for (const id of ids) {
        for (const [method, path] of [
          ["GET", `/v1/acceptances/${id}`],
          ["POST", `/v1/acceptances/${id}/cancel`],
        ] as const) {
          const what = `${method} ${path.slice(0, 30)}… (id of ${id.length})`;
          const anonymous = await call(method, path, false);
          expectProblem({ ...anonymous, body: JSON.parse(anonymous.text) }, "UNAUTHORIZED", { instance: path });
          const known = await call(method, path, true);
          expectProblem({ ...known, body: JSON.parse(known.text) }, "NOT_FOUND", {
            instance: path,
            detail: expect.stringMatching(/^no request (or outcome )?with id "AWS\.a+"/),
          });
          expect(known.text, what).not.toMatch(/FST_|max param length/i);
        }
      }
      // The bound on what the router is given: Node refuses a request line and headers over its
      // header limit (16 KiB) before any route or hook runs, in the API's shape.
      for (const token of [false, true]) {
        const c = rawClient(port);
        c.socket.write(
          `GET /v1/acceptances/AWS.${"a".repeat(20_000)} HTTP/1.1\r\nHost: x\r\n${token ? `Authorization: Bearer ${TOKEN}\r\n` : ""}\r\n`,
        );
        await within(c.closed, 10_000, "an answer to a 20 kB URL");
        expect(c.received()).toMatch(/^HTTP\/1\.1 431 /);
        expectProblem(parseRawAnswer(c.received()), "HEADERS_TOO_LARGE", { instance: null });
      }
    },
  );
});
