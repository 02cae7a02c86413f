import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import type { FastifyInstance } from "fastify";
import { buildHttpServer } from "../../src/http/build-http-server.js";
import { loadConfig } from "../../src/config/load-config.js";
import { createLogger } from "../../src/observability/logger.js";
import { startPipeline, type Pipeline } from "../helpers/pipeline.js";
import { waitFor } from "../helpers/wait.js";

const TOKEN = "status-token-0123456789";

let p: Pipeline | undefined;
let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  await p?.close();
  app = p = undefined;
});

describe("GET /v1/acceptances/{id} through to the outcome", () => {
  it("follows a request from waiting to completed with its accepted outcome, and a failed one to failed", async () => {
    p = await startPipeline({ label: "http-status" });
    const pipeline = p;
    const config = loadConfig({}, { ...p.config, HTTP_AUTH_TOKENS: TOKEN, HTTP_DASHBOARD: false });
    app = await buildHttpServer({
      producer: p.producer,
      redis: p.redis,
      config,
      logger: createLogger({ level: "silent" }),
    });
    await app.listen({ port: 0, host: "127.0.0.1" });
    const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    const headers = { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" };
    const get = async (id: string) => {
      const res = await fetch(`${base}/v1/acceptances/${encodeURIComponent(id)}`, { headers });
      return { status: res.status, body: (await res.json()) as any };
    };

    const inv = p.emulator.seedInvitation();
    const res = await fetch(`${base}/v1/acceptances/batch`, {
      method: "POST",
      headers,
      body: JSON.stringify({
        requests: [
          { catalog: inv.catalog, identifier: inv.identifier, correlationId: "http-1" },
          { catalog: "AWS", identifier: "pacinv-NOTSEEDED0000" },
        ],
      }),
    });
    expect(res.status).toBe(202);
    const [ok, missing] = ((await res.json()) as { results: Array<{ jobId: string }> }).results;

    expect(await get(ok!.jobId)).toEqual({
      status: 200,
      body: { id: ok!.jobId, state: "waiting", attempts: 0, outcome: null },
    });

    await pipeline.startWorker();
    const done = await waitFor(
      async () => {
        const r = await get(ok!.jobId);
        return r.body.state === "completed" && r.body.outcome ? r.body : undefined;
      },
      10_000,
      "completed state",
    );
    expect(done).toMatchObject({ id: ok!.jobId, state: "completed", attempts: 1 });
    expect(done.outcome).toMatchObject({
      type: "accepted",
      requestId: ok!.jobId,
      correlationId: "http-1",
      identifier: inv.identifier,
    });
    expect(done.outcome.connection.Id).toMatch(/^pac-/);

    const failed = await waitFor(
      async () => {
        const r = await get(missing!.jobId);
        return r.body.state === "failed" && r.body.outcome ? r.body : undefined;
      },
      10_000,
      "failed state",
    );
    expect(failed.outcome).toMatchObject({
      type: "failed",
      error: { name: "ResourceNotFoundException", httpStatus: 404 },
    });

    // With the request job gone (retention), the outcome alone still answers.
    await (await pipeline.producer.queue.getJob(ok!.jobId))!.remove();
    expect((await get(ok!.jobId)).body).toMatchObject({
      state: "completed",
      attempts: 1,
      outcome: { type: "accepted" },
    });
  });
});
