import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { startPipeline, TEST_CREDENTIALS, type Pipeline } from "../helpers/pipeline.js";
import {
  createEventQueues,
  MOTO_MISSING,
  queueDepth,
  sendEvent,
  startMoto,
  type Moto,
} from "../helpers/moto-server.js";
import { acceptedEvent, canceledEvent, invitationId, receivedEvent } from "../helpers/partner-events.js";
import { waitFor } from "../helpers/wait.js";
import { startRedisServer, type OwnRedis } from "../helpers/redis-server.js";
import { startIngest, type RunningIngest } from "../../src/app/ingest.js";
import { createHeldDesk, type HeldDesk } from "../../src/app/held-desk.js";
import { createLogger } from "../../src/observability/logger.js";
import { loadConfig } from "../../src/config/load-config.js";
import { parsePolicy, policyHash } from "../../src/producer/discovery-policy.js";

/**
 * The event intake's holds and closes through the real held store (its default: app/held.ts
 * ingestHeldOf on the config's Redis), read back as `pc-invitations held` reads them (the held
 * desk): moto_server for SQS, a redis-server of the test's own, the emulator and the real SDK.
 */
beforeAll(() => {
  if (MOTO_MISSING) throw new Error(MOTO_MISSING);
});

let moto: Moto | undefined;
let p: Pipeline | undefined;
let ingest: RunningIngest | undefined;
let desk: HeldDesk | undefined;
let ownRedis: OwnRedis | undefined;
afterEach(async () => {
  await desk?.close();
  desk = undefined;
  await ingest?.stop("test over");
  ingest = undefined;
  await p?.close();
  p = undefined;
  await moto?.stop();
  moto?.sqs.destroy();
  moto = undefined;
  await ownRedis?.stop();
  ownRedis = undefined;
});

const HOLDER = "pprofile-HOLDME0000001";
const policyInput = {
  default: "accept" as const,
  rules: [{ action: "hold" as const, when: { otherParticipantIdentifiers: [HOLDER] } }],
};

describe("ingest → the held store (real Redis, moto_server)", { timeout: 180_000 }, () => {
  it(
    "a Received event held by policy appears in the held list; a later " +
      "Cancelled closes it (canceled), an Accepted closes another (accepted " +
      "elsewhere); an accepted one is not held",
    async () => {
      moto = await startMoto();
      const { queueUrl } = await createEventQueues(moto.sqs, "events-held");
      ownRedis = await startRedisServer();
      p = await startPipeline({ label: "ingest-held", redisUrl: ownRedis.url });
      const config = loadConfig(
        {},
        {
          ...p.config,
          AWS_ENDPOINT_URL_SQS: moto.url,
          INGEST_WAIT_SECONDS: 1,
          INGEST_VISIBILITY_TIMEOUT_SECONDS: 5,
          INGEST_BACKOFF_MAX_MS: 1000,
        },
      );
      const policy = parsePolicy(policyInput);
      // No `held` option: the intake's default, the held store of the config.
      ingest = startIngest(config, {
        queueUrl,
        policy,
        logger: createLogger({ level: "silent" }),
        api: p.api,
        credentials: TEST_CREDENTIALS,
      });
      desk = createHeldDesk(config, p.redis, p.producer, { api: p.api });
      const d = desk;
      const listed = async () => (await d.list({ limit: 100 })).items.map((i) => i.identifier);

      const toCancel = invitationId();
      const toAccept = invitationId();
      const notHeld = invitationId();
      await sendEvent(moto.sqs, queueUrl, receivedEvent(toCancel, { sender: HOLDER, email: "ceo@holder.example" }));
      await sendEvent(moto.sqs, queueUrl, receivedEvent(toAccept, { sender: HOLDER }));
      await sendEvent(moto.sqs, queueUrl, receivedEvent(notHeld));
      await waitFor(
        async () => {
          const ids = await listed();
          return ids.includes(toCancel) && ids.includes(toAccept) ? ids : undefined;
        },
        60_000,
        "the held invitations in the held list",
      );
      const record = await d.get({ catalog: "AWS", identifier: toCancel });
      expect(record).toMatchObject({
        catalog: "AWS",
        identifier: toCancel,
        state: "held",
        otherParticipantIdentifier: HOLDER,
        connectionType: "OPPORTUNITY_COLLABORATION",
        inviterEmail: "ceo@holder.example",
        rule: 0,
        policyHash: policyHash(policy),
        closedAt: null,
      });
      // The one the policy accepts is enqueued, never held.
      await waitFor(
        async () => {
          const [r] = await p!.producer.preview([{ catalog: "AWS", identifier: notHeld }]);
          return r?.verdict === "duplicate";
        },
        60_000,
        "the accepted one's request",
      );
      expect(await d.get({ catalog: "AWS", identifier: notHeld })).toBeUndefined();
      expect(await listed()).not.toContain(notHeld);

      await sendEvent(moto.sqs, queueUrl, canceledEvent(toCancel));
      await sendEvent(moto.sqs, queueUrl, acceptedEvent(toAccept));
      await waitFor(
        async () => {
          const ids = await listed();
          return !ids.includes(toCancel) && !ids.includes(toAccept);
        },
        60_000,
        "the held ones closed",
      );
      expect(await d.get({ catalog: "AWS", identifier: toCancel })).toMatchObject({ state: "canceled" });
      expect((await d.get({ catalog: "AWS", identifier: toCancel }))?.closedAt).toEqual(expect.any(String));
      expect(await d.get({ catalog: "AWS", identifier: toAccept })).toMatchObject({ state: "accepted-elsewhere" });
      // Every message handled and deleted.
      await waitFor(async () => (await queueDepth(moto!.sqs, queueUrl)) === 0, 60_000, "the queue emptied");
    },
  );
});
