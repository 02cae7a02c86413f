import type { AddressInfo } from "node:net";
import type { Redis } from "ioredis";
import { buildHttpServer } from "../../src/http/build-http-server.js";
import type { AcceptancePort } from "../../src/http/http-context.js";
import { createProducer, type RedisProducer } from "../../src/producer/producer.js";
import { loadConfig } from "../../src/config/load-config.js";
import { createLogger } from "../../src/observability/logger.js";
import { deletePrefix, REDIS_URL, uniquePrefix } from "./redis.js";

/**
 * An HTTP API server on 127.0.0.1:0 over real Redis, under a queue prefix of its own, and a fetch
 * wrapper that authenticates with TOKEN_A unless told otherwise. `useHttpServers(redis)` gives a
 * `startServer` whose servers are closed (and their keys removed) by `closeAll`.
 */
export const TOKEN_A = "token-a-0123456789abcdef";
export const TOKEN_B = "token-b-fedcba9876543210";

export interface Running {
  base: string;
  prefix: string;
  producer: RedisProducer;
  close(): Promise<void>;
}

export function useHttpServers(redis: () => Redis) {
  const running: Running[] = [];
  async function startServer(
    overrides: Record<string, unknown> = {},
    producerOverride?: AcceptancePort,
  ): Promise<Running> {
    const prefix = uniquePrefix("http");
    const producer = createProducer({ redis: redis(), prefix });
    const config = loadConfig(
      {},
      { REDIS_URL, QUEUE_PREFIX: prefix, HTTP_AUTH_TOKENS: `${TOKEN_A},${TOKEN_B}`, LOG_LEVEL: "silent", ...overrides },
    );
    const app = await buildHttpServer({
      producer: producerOverride ?? producer,
      redis: redis(),
      config,
      logger: createLogger({ level: "silent" }),
    }).catch(async (err: unknown) => {
      await producer.close();
      await deletePrefix(redis(), prefix);
      throw err;
    });
    await app.listen({ port: 0, host: "127.0.0.1" });
    const r: Running = {
      base: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`,
      prefix,
      producer,
      async close() {
        await app.close();
        await producer.close();
        await deletePrefix(redis(), prefix);
      },
    };
    running.push(r);
    return r;
  }
  return {
    startServer,
    closeAll: () => Promise.all(running.splice(0).map((r) => r.close())),
  };
}

export interface CallAnswer {
  status: number;
  headers: Headers;
  /** The JSON body, read field by field by the tests. */
  body: any;
  text: string;
}

export async function call(
  s: Running,
  path: string,
  opts: {
    method?: string;
    json?: unknown;
    body?: string;
    token?: string | null;
    headers?: Record<string, string>;
  } = {},
): Promise<CallAnswer> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token !== null) headers.authorization ??= `Bearer ${opts.token ?? TOKEN_A}`;
  let body = opts.body;
  if (opts.json !== undefined) {
    body = JSON.stringify(opts.json);
    headers["content-type"] ??= "application/json";
  }
  const res = await fetch(s.base + path, {
    method: opts.method ?? (body === undefined ? "GET" : "POST"),
    headers,
    body,
  });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: res.status, headers: res.headers, body: parsed, text };
}
