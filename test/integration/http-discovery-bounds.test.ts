import { request as httpRequest } from "node:http";
import type { AddressInfo } from "node:net";
import { Writable } from "node:stream";
import type { FastifyInstance } from "fastify";
import { afterEach, describe, expect, it } from "vitest";
import { startPipeline, TEST_CREDENTIALS, type Pipeline } from "../helpers/pipeline.js";
import { waitFor } from "../helpers/wait.js";
import { buildHttpServer } from "../../src/http/build-http-server.js";
import { createSdkInvitationApi } from "../../src/aws/sdk-invitation-api.js";
import { createDiscovery } from "../../src/app/discovery.js";
import { pacingFromConfig, rateLimiterFromConfig } from "../../src/app/from-config.js";
import { loadConfig } from "../../src/config/load-config.js";
import { createLogger } from "../../src/observability/logger.js";

/**
 * POST /v1/discoveries against a list API that does not end its listing, or hangs, through the
 * real SDK and the emulator: the answer is an error naming the operation and the catalog, and a
 * discovery whose caller left (or whose server is closing) stops making calls.
 */
const TOKEN = "token-discovery-bounds-0123456789";
const REQUEST_TIMEOUT_MS = 1000;

let p: Pipeline | undefined;
const closers: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
  await p?.close();
  p = undefined;
});

async function serve(pl: Pipeline): Promise<{ app: FastifyInstance; base: string; logs: string[] }> {
  const config = loadConfig({}, { ...pl.config, HTTP_AUTH_TOKENS: TOKEN, HTTP_DASHBOARD: false });
  const api = createSdkInvitationApi({
    endpoint: pl.emulator.url,
    credentials: TEST_CREDENTIALS,
    requestTimeoutMs: REQUEST_TIMEOUT_MS,
  });
  closers.push(() => api.destroy());
  const logs: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, done) {
      logs.push(String(chunk));
      done();
    },
  });
  const app = await buildHttpServer({
    producer: pl.producer,
    redis: pl.redis,
    config,
    logger: createLogger({ level: "info", destination }),
    discovery: createDiscovery({
      api,
      pacing: pacingFromConfig(config, rateLimiterFromConfig(config, pl.redis)),
      producer: pl.producer,
    }),
  });
  await app.listen({ port: 0, host: "127.0.0.1" });
  closers.push(() => app.close());
  return { app, base: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`, logs };
}

const discoveryBody = JSON.stringify({ catalogs: ["AWS"], policy: { default: "accept" } });

/** Sends POST /v1/discoveries; `answer` resolves with its status and body, `leave()` closes the connection. */
function postDiscovery(base: string) {
  const req = httpRequest(`${base}/v1/discoveries`, {
    method: "POST",
    headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
  });
  const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
    req.on("response", (res) => {
      let body = "";
      res.on("data", (d) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
  });
  req.end(discoveryBody);
  return { answer, leave: () => req.destroy() };
}

const listCalls = () => p!.emulator.calls({ operation: "ListConnectionInvitations" }).length;

describe("POST /v1/discoveries against a list API that misbehaves", () => {
  it("answers 502 naming ListConnectionInvitations, the catalog and the repeated NextToken", async () => {
    p = await startPipeline({ label: "http-disc-repeat" });
    p.emulator.seedInvitations(150); // two pages of 100
    p.emulator.setSwitches({ repeatNextToken: "same" });
    const { base } = await serve(p);
    const { status, body } = await postDiscovery(base).answer;
    expect(status, body).toBe(502);
    expect(body).toContain("ListConnectionInvitations");
    expect(body).toContain("RepeatedNextToken");
    expect(body).toContain("catalog AWS: page 2 answered the NextToken page 1 had answered");
    expect(listCalls()).toBe(2);
    // The first two pages' accepts were enqueued (a second discovery finds them as duplicates).
    expect(await p.producer.queue.count()).toBe(150);
  });

  it(
    "stops a discovery whose caller closed the connection: its call on the " + "wire is cut off, none follows",
    async () => {
      p = await startPipeline({ label: "http-disc-left" });
      p.emulator.seedInvitations(3);
      // The first listing never answers: without the caller's signal, the SDK's own timeout
      // (REQUEST_TIMEOUT_MS) would end it and discover would try again.
      p.emulator.script({ operation: "ListConnectionInvitations", times: 1, error: "Hang" });
      const { base, logs } = await serve(p);
      const call = postDiscovery(base);
      call.answer.catch(() => {});
      await waitFor(() => listCalls() === 1, 15_000, "the first listing");
      call.leave();
      await waitFor(
        () => logs.some((l) => l.includes("discovery stopped: its caller closed the connection")),
        15_000,
        "the discovery to stop",
      );
      // Well past the timeout the SDK would have given the hung call: no other call was made.
      await new Promise((r) => setTimeout(r, 3 * REQUEST_TIMEOUT_MS));
      expect(listCalls()).toBe(1);
      expect(await p.producer.queue.count()).toBe(0);
    },
  );

  it("stops the discoveries in flight when the server closes, answering 503 SHUTTING_DOWN", async () => {
    p = await startPipeline({ label: "http-disc-close" });
    p.emulator.seedInvitations(3);
    p.emulator.script({ operation: "ListConnectionInvitations", times: 1, error: "Hang" });
    const { app, base } = await serve(p);
    const call = postDiscovery(base);
    await waitFor(() => listCalls() === 1, 15_000, "the first listing");
    await app.close();
    const { status, body } = await call.answer;
    expect(status, body).toBe(503);
    expect(body).toContain("SHUTTING_DOWN");
    expect(listCalls()).toBe(1);
  });
});
