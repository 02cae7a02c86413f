/**
 * A reject's `reason` is part of what makes a re-submission the same request (README: "same key +
 * same payload = the same request; another payload is refused"): two rejects of one invitation
 * under one key with different reasons are a conflict naming `reason`, through the producer (one at
 * a time and within one batch) and over HTTP (422). The same reason again is the same request.
 */
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { startPipeline, type Pipeline } from "../helpers/pipeline.js";
import { buildHttpServer } from "../../src/http/build-http-server.js";
import { loadConfig } from "../../src/config/load-config.js";
import { createLogger } from "../../src/observability/logger.js";
import { IdempotencyConflictError } from "../../src/index.js";
import { expectProblem } from "../helpers/problem.js";

const TOKEN = "reject-reason-token-0123456789";

let p: Pipeline | undefined;
const closers: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
  await p?.close();
  p = undefined;
});

const queued = (pl: Pipeline) => pl.producer.queue.getJobCountByTypes("waiting", "delayed", "prioritized");

describe("a reject's reason under one idempotency key", () => {
  it("producer: a second reject with another reason is IdempotencyConflictError naming reason", async () => {
    p = await startPipeline({ label: "reject-reason" });
    const inv = p.emulator.seedInvitation();
    const reject = (reason?: string) => ({
      catalog: inv.catalog,
      identifier: inv.identifier,
      action: "reject" as const,
      ...(reason === undefined ? {} : { reason }),
    });
    const first = await p.producer.enqueue(reject("Not a fit"));
    expect(first).toMatchObject({ duplicate: false });

    const err = await p.producer.enqueue(reject("Duplicate partner")).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IdempotencyConflictError);
    expect(err).toMatchObject({
      idempotencyKey: `${inv.catalog}.${inv.identifier}`,
      differences: ["reason"],
      existingJobId: first.jobId,
    });
    // A reason on one side only differs too; the same reason again is the same request.
    await expect(p.producer.enqueue(reject())).rejects.toMatchObject({ differences: ["reason"] });
    expect(await p.producer.enqueue(reject("Not a fit"))).toMatchObject({ duplicate: true, jobId: first.jobId });
    expect(await queued(p)).toBe(1);
  });

  it(
    "producer: within one batch, a second reject with " + "another reason is a conflict; nothing of it written",
    async () => {
      p = await startPipeline({ label: "reject-reason-batch" });
      const inv = p.emulator.seedInvitation();
      const batch = [
        { catalog: inv.catalog, identifier: inv.identifier, action: "reject" as const, reason: "Not a fit" },
        { catalog: inv.catalog, identifier: inv.identifier, action: "reject" as const, reason: "Out of region" },
      ];
      await expect(p.producer.enqueueMany(batch)).rejects.toMatchObject({
        name: "IdempotencyConflictError",
        differences: ["reason"],
        index: 1,
        firstIndex: 0,
      });
      expect(await queued(p)).toBe(0);
    },
  );

  it("HTTP: a second reject with another reason is 422 IDEMPOTENCY_CONFLICT naming reason", async () => {
    p = await startPipeline({ label: "reject-reason-http" });
    const config = loadConfig({}, { ...p.config, HTTP_AUTH_TOKENS: TOKEN, HTTP_DASHBOARD: false });
    const app = await buildHttpServer({
      producer: p.producer,
      redis: p.redis,
      config,
      logger: createLogger({ level: "silent" }),
    });
    closers.push(() => app.close());
    await app.listen({ port: 0, host: "127.0.0.1" });
    const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    const post = async (body: unknown) => {
      const res = await fetch(`${url}/v1/acceptances`, {
        method: "POST",
        headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
    };
    const inv = p.emulator.seedInvitation();
    const reject = (reason: string) => ({
      catalog: inv.catalog,
      identifier: inv.identifier,
      idempotencyKey: "reject-7",
      action: "reject",
      reason,
    });
    const first = await post(reject("Not a fit"));
    expect(first.status).toBe(202);
    const refused = await post(reject("Duplicate partner"));
    expect(refused.status).toBe(422);
    expectProblem(refused, "IDEMPOTENCY_CONFLICT", {
      instance: "/v1/acceptances",
      idempotencyKey: "reject-7",
      differences: ["reason"],
      existingJobId: first.body.jobId,
    });
    expect(await post(reject("Not a fit"))).toMatchObject({ body: { jobId: first.body.jobId, duplicate: true } });
    expect(await queued(p)).toBe(1);
  });
});
