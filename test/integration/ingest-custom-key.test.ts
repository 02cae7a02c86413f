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
import { canceledEvent, invitationId } from "../helpers/partner-events.js";
import { waitFor } from "../helpers/wait.js";
import { startRedisServer, type OwnRedis } from "../helpers/redis-server.js";
import { startIngest, type RunningIngest } from "../../src/app/ingest.js";
import { requestStoreFromConfig } from "../../src/app/from-config.js";
import { createLogger } from "../../src/observability/logger.js";
import { loadConfig } from "../../src/config/load-config.js";
import { parsePolicy } from "../../src/producer/discovery-policy.js";

/**
 * A Cancelled event ends the invitation's waiting requests under idempotency keys of their own
 * too (found through the store's index of the invitation's requests), not only the default key's:
 * moto_server for SQS, a redis-server of the test's own, the emulator and the real SDK.
 */
beforeAll(() => {
  if (MOTO_MISSING) throw new Error(MOTO_MISSING);
});

let moto: Moto | undefined;
let p: Pipeline | undefined;
let ingest: RunningIngest | undefined;
const closers: Array<() => Promise<unknown>> = [];
let ownRedis: OwnRedis | undefined;
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
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

describe("ingest: Cancelled and requests under keys of their own", { timeout: 180_000 }, () => {
  it(
    "a Cancelled event cancels the invitation's waiting requests under " +
      "custom idempotency keys and the default key; another invitation's " +
      "request is left",
    async () => {
      moto = await startMoto();
      const { queueUrl } = await createEventQueues(moto.sqs, "events-custom-key");
      ownRedis = await startRedisServer();
      p = await startPipeline({ label: "ingest-custom-key", redisUrl: ownRedis.url });
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
      const store = requestStoreFromConfig(config, p.redis, { writesQueueMeta: false });
      closers.push(() => store.close());
      const target = invitationId();
      const other = invitationId();
      // No worker runs: the requests wait. Two under keys of their own, one under the default key.
      const results = await p.producer.enqueueMany([
        { catalog: "AWS", identifier: target, idempotencyKey: "crm-4711" },
        { catalog: "AWS", identifier: target, action: "reject", reason: "no", idempotencyKey: "crm-4712" },
        { catalog: "AWS", identifier: target },
        { catalog: "AWS", identifier: other, idempotencyKey: "crm-4713" },
      ]);
      const ids = results.map((r) => r.jobId);
      expect(new Set(ids).size).toBe(4);
      ingest = startIngest(config, {
        queueUrl,
        policy: parsePolicy({ default: "accept", rules: [] }),
        logger: createLogger({ level: "silent" }),
        api: p.api,
        credentials: TEST_CREDENTIALS,
      });
      await sendEvent(moto.sqs, queueUrl, canceledEvent(target));
      const outcomes = await waitFor(
        async () => {
          const o = await Promise.all(ids.slice(0, 3).map((id) => store.readOutcome(id)));
          return o.every((x) => x !== undefined) ? o : undefined;
        },
        60_000,
        "the target's requests canceled",
      );
      for (const o of outcomes)
        expect(o).toMatchObject({ type: "canceled", reason: expect.stringMatching(/^the sender canceled/) });
      await waitFor(async () => (await queueDepth(moto!.sqs, queueUrl)) === 0, 60_000, "the queue emptied");
      expect(await store.readOutcome(ids[3]!)).toBeUndefined();
    },
  );
});
