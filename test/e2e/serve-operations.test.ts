import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PartnerCentralEmulator } from "../../src/emulator/index.js";
import { PROCESS_START_MS, startCli, stopCli } from "../helpers/cli.js";
import { deletePrefix, newRedis, REDIS_URL, uniquePrefix } from "../helpers/redis.js";
import { waitFor } from "../helpers/wait.js";
import { freePort } from "../helpers/net.js";

const TOKEN = "serve-ops-token-0123456789";
const redis = newRedis();
let emulator: PartnerCentralEmulator;
beforeAll(async () => {
  emulator = await PartnerCentralEmulator.start();
});
afterAll(async () => {
  await emulator.close();
  redis.disconnect();
});

describe("pc-invitations serve: discoveries, cancel and redrives over HTTP (CLI process, emulator)", () => {
  it(
    "discovers through the emulator with the server's own API and limit, cancels, redrives",
    async () => {
      emulator.reset();
      const prefix = uniquePrefix("serve-ops");
      const port = await freePort();
      const server = startCli(["serve"], {
        REDIS_URL,
        QUEUE_PREFIX: prefix,
        PARTNERCENTRAL_ENDPOINT: emulator.url,
        HTTP_HOST: "127.0.0.1",
        HTTP_PORT: String(port),
        HTTP_AUTH_TOKENS: TOKEN,
        RATE_LIMIT_RPS: "1000",
        RATE_LIMIT_BURST: "1000",
        LOG_LEVEL: "warn",
      });
      const base = `http://127.0.0.1:${port}`;
      const post = async (path: string, body?: unknown) => {
        const res = await fetch(base + path, {
          method: "POST",
          headers: {
            authorization: `Bearer ${TOKEN}`,
            ...(body !== undefined ? { "content-type": "application/json" } : {}),
          },
          ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        });
        return { status: res.status, body: (await res.json()) as any };
      };
      try {
        await waitFor(
          async () => (await fetch(`${base}/healthz`).catch(() => undefined))?.ok,
          PROCESS_START_MS,
          "serve to listen",
        );
        const invs = emulator.seedInvitations(30);
        const found = await post("/v1/discoveries", {
          catalogs: ["AWS"],
          policy: { default: "reject", rules: [{ action: "hold", when: { connectionTypes: ["SUBSIDIARY"] } }] },
        });
        expect(found.status).toBe(200);
        expect(found.body).toMatchObject({ found: 30, enqueued: { accept: 0, reject: 15 }, held: 15 });
        expect(emulator.calls({ operation: "ListConnectionInvitations" })).toHaveLength(1);
        const jobId = found.body.invitations.find((i: { result: string }) => i.result === "enqueued").jobId as string;
        const canceled = await post(`/v1/acceptances/${jobId}/cancel`, { reason: "changed our mind" });
        expect(canceled).toMatchObject({
          status: 200,
          body: { type: "canceled", action: "reject", reason: "changed our mind" },
        });
        const redrives = await post("/v1/redrives", { dryRun: true });
        expect(redrives).toMatchObject({ status: 200, body: { found: 0 } });
        expect(invs.every((i) => emulator.getInvitation("AWS", i.identifier)!.Status === "PENDING")).toBe(true);
      } finally {
        const run = await stopCli(server);
        expect(run.code).toBe(0);
        await deletePrefix(redis, prefix);
      }
    },
    PROCESS_START_MS + 60_000,
  );
});
