import type { AddressInfo } from "node:net";
import type { FastifyInstance } from "fastify";
import { afterEach, describe, expect, it } from "vitest";
import { startPipeline, TEST_CREDENTIALS, type Pipeline } from "../helpers/pipeline.js";
import { waitForOutcomes } from "../helpers/outcomes.js";
import { waitFor } from "../helpers/wait.js";
import { expectProblem } from "../helpers/problem.js";
import { buildHttpServer } from "../../src/http/build-http-server.js";
import { createSdkInvitationApi } from "../../src/aws/sdk-invitation-api.js";
import { createDiscovery } from "../../src/app/discovery.js";
import { createRequestControl, type RequestControl } from "../../src/app/request-control.js";
import { pacingFromConfig, rateLimiterFromConfig } from "../../src/app/from-config.js";
import { loadConfig } from "../../src/config/load-config.js";
import { createLogger } from "../../src/observability/logger.js";
import { accept } from "../../src/operations/accept.js";

const TOKEN = "token-ops-0123456789abcdef";

let p: Pipeline | undefined;
const closers: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
  await p?.close();
  p = undefined;
});

/** The HTTP API over the pipeline's Redis, producer and emulator, as `serve` wires it (or without the optional parts).
 * */
async function serve(
  pl: Pipeline,
  parts: { discovery?: boolean; control?: boolean } = { discovery: true, control: true },
): Promise<string> {
  const config = loadConfig({}, { ...pl.config, HTTP_AUTH_TOKENS: TOKEN });
  const api = createSdkInvitationApi({ endpoint: pl.emulator.url, credentials: TEST_CREDENTIALS });
  closers.push(() => api.destroy());
  let control: RequestControl | undefined;
  if (parts.control) {
    control = createRequestControl(config, pl.redis, pl.producer, { api: pl.api });
    closers.push(() => control!.close());
  }
  const app: FastifyInstance = await buildHttpServer({
    producer: pl.producer,
    redis: pl.redis,
    config,
    logger: createLogger({ level: "silent" }),
    ...(parts.discovery
      ? {
          discovery: createDiscovery({
            api,
            pacing: pacingFromConfig(config, rateLimiterFromConfig(config, pl.redis)),
            producer: pl.producer,
          }),
        }
      : {}),
    ...(control ? { requestControl: control } : {}),
  });
  await app.listen({ port: 0, host: "127.0.0.1" });
  closers.push(() => app.close());
  return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
}

async function post(base: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(base + path, {
    method: "POST",
    headers: {
      authorization: `Bearer ${TOKEN}`,
      ...(body !== undefined ? { "content-type": "application/json" } : {}),
      ...headers,
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as any };
}

describe("HTTP API: discoveries, cancel, redrives", () => {
  it(
    "POST /v1/discoveries answers the summary; a second one enqueues " +
      "nothing; a bad policy is 400 naming the rule and field",
    async () => {
      p = await startPipeline({ label: "http-discover" });
      const base = await serve(p);
      p.emulator.seedInvitations(8);
      const body = {
        catalogs: ["AWS"],
        policy: { default: "hold", rules: [{ action: "accept", when: { connectionTypes: ["SUBSIDIARY"] } }] },
      };
      const first = await post(base, "/v1/discoveries", body);
      expect(first.status).toBe(200);
      expect(first.body).toMatchObject({
        dryRun: false,
        catalogs: ["AWS"],
        found: 8,
        enqueued: { accept: 4, reject: 0 },
        held: 4,
        duplicates: 0,
      });
      expect(first.body.invitations).toHaveLength(8);
      expect(await p.producer.queue.count()).toBe(4);
      const second = await post(base, "/v1/discoveries", body);
      expect(second.body).toMatchObject({ enqueued: { accept: 0, reject: 0 }, duplicates: 4 });
      const dry = await post(base, "/v1/discoveries", { catalogs: ["AWS"], dryRun: true });
      expect(dry.body).toMatchObject({ dryRun: true, held: 8, enqueued: { accept: 0, reject: 0 } });

      const bad = await post(base, "/v1/discoveries", {
        catalogs: ["AWS"],
        policy: { rules: [{ action: "accept" }, { action: "reject", when: { connectionTypes: ["SUBSIDARY"] } }] },
      });
      expectProblem(bad, "INVALID_REQUEST", {
        instance: "/v1/discoveries",
        issues: [
          {
            field: "policy.rules.1.when.connectionTypes.0",
            rule: "must be one of OPPORTUNITY_COLLABORATION, SUBSIDIARY",
          },
        ],
      });
      expect((await post(base, "/v1/discoveries", { catalogs: [] })).body.issues).toEqual([
        { field: "catalogs", rule: "must list at least one catalog" },
      ]);
      const unauth = await fetch(`${base}/v1/discoveries`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      expectProblem({ status: unauth.status, headers: unauth.headers, body: await unauth.json() }, "UNAUTHORIZED");
    },
  );

  it(
    "POST /v1/discoveries over several pages of invitations accepts some, " +
      "rejects some and holds the rest; a second identical one enqueues nothing",
    async () => {
      p = await startPipeline({ label: "http-discover-pages" });
      const base = await serve(p);
      // The server lists 100 a page (discover's default): 230 pending invitations are three pages.
      const pending = p.emulator.seedInvitations(230);
      p.emulator.seedInvitations(5, { status: "ACCEPTED" });
      const body = {
        catalogs: ["AWS"],
        policy: {
          default: "hold",
          rules: [
            { action: "accept", when: { otherParticipantIdentifiers: ["111122223333"] } },
            {
              action: "reject",
              reason: "no subsidiaries from Globex",
              when: { otherParticipantIdentifiers: ["222233334444"], connectionTypes: ["SUBSIDIARY"] },
            },
          ],
        },
      };
      const accepts = pending.filter((i) => i.otherParticipantIdentifier === "111122223333");
      const rejects = pending.filter(
        (i) => i.otherParticipantIdentifier === "222233334444" && i.connectionType === "SUBSIDIARY",
      );
      const held = pending.length - accepts.length - rejects.length;
      expect(accepts.length).toBeGreaterThan(0);
      expect(rejects.length).toBeGreaterThan(0);
      expect(held).toBeGreaterThan(0);

      const first = await post(base, "/v1/discoveries", body);
      expect(first.status).toBe(200);
      expect(first.body).toMatchObject({
        dryRun: false,
        catalogs: ["AWS"],
        found: 230,
        enqueued: { accept: accepts.length, reject: rejects.length },
        duplicates: 0,
        held,
        conflicts: 0,
        calls: { list: 3, get: 0 },
      });
      // Every pending invitation once, none lost or repeated at a page boundary, each decided by the policy.
      const seen = (first.body.invitations as Array<{ identifier: string; decision: string; result: string }>).map(
        (i) => `${i.identifier} ${i.decision} ${i.result}`,
      );
      const decisionOf = (id: string) =>
        accepts.some((i) => i.identifier === id)
          ? "accept enqueued"
          : rejects.some((i) => i.identifier === id)
            ? "reject enqueued"
            : "hold held";
      expect(seen.sort()).toEqual(pending.map((i) => `${i.identifier} ${decisionOf(i.identifier)}`).sort());
      const listings = p.emulator.calls({ operation: "ListConnectionInvitations" });
      expect(listings.map((c) => c.input.NextToken === undefined)).toEqual([true, false, false]);
      expect(await p.producer.queue.count()).toBe(accepts.length + rejects.length);

      const second = await post(base, "/v1/discoveries", body);
      expect(second.status).toBe(200);
      expect(second.body).toMatchObject({
        found: 230,
        enqueued: { accept: 0, reject: 0 },
        duplicates: accepts.length + rejects.length,
        held,
        conflicts: 0,
      });
      expect(await p.producer.queue.count()).toBe(accepts.length + rejects.length);
    },
  );

  it(
    "POST /v1/discoveries answers 502 AWS_ERROR when AWS " + "refuses the listing, and 501 without a discovery",
    async () => {
      p = await startPipeline({ label: "http-discover-denied" });
      const base = await serve(p);
      p.emulator.script({
        operation: "ListConnectionInvitations",
        times: 1,
        error: "AccessDeniedException",
        reason: "ACCESS_DENIED",
      });
      const denied = await post(base, "/v1/discoveries", { catalogs: ["AWS"] });
      expectProblem(denied, "AWS_ERROR", {
        instance: "/v1/discoveries",
        operation: "ListConnectionInvitations",
        awsError: "AccessDeniedException",
        reason: "ACCESS_DENIED",
        awsHttpStatus: 403,
      });
      const bare = await serve(p, {});
      expectProblem(await post(bare, "/v1/discoveries", { catalogs: ["AWS"] }), "NOT_CONFIGURED", {
        instance: "/v1/discoveries",
      });
      expectProblem(await post(bare, "/v1/redrives", {}), "NOT_CONFIGURED", { instance: "/v1/redrives" });
      expectProblem(await post(bare, "/v1/acceptances/AWS.x.y/cancel"), "NOT_CONFIGURED", {
        instance: "/v1/acceptances/AWS.x.y/cancel",
      });
    },
  );

  it(
    "POST /v1/acceptances/{id}/cancel: 200 with the canceled outcome, " +
      "409 with the state of an active request, 404 for an unknown one",
    async () => {
      p = await startPipeline({ label: "http-cancel", emulator: { latencyMs: 1500 } });
      const base = await serve(p);
      const [a, b] = p.emulator.seedInvitations(2);
      const waiting = await p.producer.enqueue({ catalog: a!.catalog, identifier: a!.identifier });
      const ok = await post(base, `/v1/acceptances/${waiting.jobId}/cancel`, { reason: "entered twice" });
      expect(ok.status).toBe(200);
      expect(ok.body).toMatchObject({ type: "canceled", requestId: waiting.jobId, reason: "entered twice" });
      // No body at all is fine too; canceling again answers the same outcome.
      expect(await post(base, `/v1/acceptances/${waiting.jobId}/cancel`)).toMatchObject({ status: 200, body: ok.body });
      const status = await fetch(`${base}/v1/acceptances/${waiting.jobId}`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      expect(await status.json()).toMatchObject({ state: "canceled", outcome: { type: "canceled" } });

      const running = await p.producer.enqueue({ catalog: b!.catalog, identifier: b!.identifier });
      await p.startWorker();
      await waitFor(
        () => p!.emulator.calls({ operation: "AcceptConnectionInvitation" }).length > 0 || undefined,
        10_000,
        "the call to start",
      );
      const refused = await post(base, `/v1/acceptances/${running.jobId}/cancel`);
      expectProblem(refused, "NOT_CANCELABLE", { state: "active", requestId: running.jobId });
      expectProblem(await post(base, "/v1/acceptances/AWS.pacinv-NOSUCHREQUEST.x/cancel"), "NOT_FOUND", {
        instance: "/v1/acceptances/AWS.pacinv-NOSUCHREQUEST.x/cancel",
      });
      expectProblem(await post(base, "/v1/acceptances/meta/cancel"), "NOT_FOUND");
      expectProblem(await post(base, `/v1/acceptances/${running.jobId}/cancel`, { why: "x" }), "INVALID_REQUEST", {
        issues: [{ field: "(root)", rule: "unknown field(s): why" }],
      });
      await waitForOutcomes(p.redis, p.prefix, 2);
    },
  );

  it("POST /v1/redrives answers the summary and redrives once; a bad duration is 400", async () => {
    p = await startPipeline({ label: "http-redrive" });
    const base = await serve(p);
    const inv = p.emulator.seedInvitation();
    p.emulator.script({
      operation: "AcceptConnectionInvitation",
      identifier: inv.identifier,
      times: 1,
      error: "AccessDeniedException",
    });
    await p.producer.enqueue({ catalog: inv.catalog, identifier: inv.identifier });
    await p.startWorker();
    await waitForOutcomes(p.redis, p.prefix, 1);
    const dry = await post(base, "/v1/redrives", { errors: ["AccessDeniedException"], since: "1h", dryRun: true });
    expect(dry).toMatchObject({ status: 200, body: { dryRun: true, found: 1, redriven: 1 } });
    const run = await post(base, "/v1/redrives", { errors: ["AccessDeniedException"], since: "1h" });
    expect(run).toMatchObject({ status: 200, body: { found: 1, redriven: 1, duplicates: 0 } });
    const events = await waitForOutcomes(p.redis, p.prefix, 2);
    expect(events.find((e) => e.redriveOf !== undefined)).toMatchObject({ type: "accepted" });
    expect((await post(base, "/v1/redrives", { errors: ["AccessDeniedException"] })).body).toMatchObject({
      redriven: 0,
      duplicates: 1,
    });
    const bad = await post(base, "/v1/redrives", { since: "yesterday" });
    expectProblem(bad, "INVALID_REQUEST", {
      instance: "/v1/redrives",
      issues: [{ field: "since", rule: "must be a whole number and a unit: ms, s, m, h or d (e.g. 30s, 5m, 1h, 1d)" }],
    });
  });

  it(
    "POST /v1/redrives of a failure whose invitation was accepted " +
      "meanwhile ends as accepted (alreadyAccepted) without calling Accept",
    async () => {
      p = await startPipeline({ label: "http-redrive-accepted" });
      const base = await serve(p);
      const inv = p.emulator.seedInvitation();
      p.emulator.script({
        operation: "AcceptConnectionInvitation",
        identifier: inv.identifier,
        times: 1,
        error: "AccessDeniedException",
        reason: "ACCESS_DENIED",
      });
      const original = await p.producer.enqueue({ catalog: inv.catalog, identifier: inv.identifier });
      await p.startWorker();
      const [failed] = await waitForOutcomes(p.redis, p.prefix, 1);
      expect(failed).toMatchObject({
        type: "failed",
        requestId: original.jobId,
        error: { name: "AccessDeniedException" },
      });
      // Someone accepts it another way meanwhile (the console, another tool).
      const byHand = createSdkInvitationApi({ endpoint: p.emulator.url, credentials: TEST_CREDENTIALS });
      closers.push(() => byHand.destroy());
      await accept.call(byHand, {
        catalog: inv.catalog,
        identifier: inv.identifier,
        clientToken: "accepted-by-hand-0001",
        request: {},
      });
      expect(p.emulator.getInvitation(inv.catalog, inv.identifier)?.Status).toBe("ACCEPTED");
      const acceptsBefore = p.emulator.calls({
        operation: "AcceptConnectionInvitation",
        identifier: inv.identifier,
      }).length;

      const run = await post(base, "/v1/redrives", { errors: ["AccessDeniedException"] });
      expect(run).toMatchObject({
        status: 200,
        body: { dryRun: false, found: 1, redriven: 1, duplicates: 0, conflicts: 0 },
      });
      const events = await waitForOutcomes(p.redis, p.prefix, 2);
      const redriven = events.find((e) => e.redriveOf !== undefined);
      expect(redriven).toMatchObject({
        type: "accepted",
        alreadyAccepted: true,
        attempts: 0,
        redriveOf: original.jobId,
        identifier: inv.identifier,
      });
      expect(redriven!.requestId).not.toBe(original.jobId);
      // The redrive read the invitation and made no Accept call of its own.
      expect(p.emulator.calls({ operation: "AcceptConnectionInvitation", identifier: inv.identifier })).toHaveLength(
        acceptsBefore,
      );
      expect(
        p.emulator.calls({ operation: "GetConnectionInvitation", identifier: inv.identifier }).length,
      ).toBeGreaterThan(0);
    },
  );
});
