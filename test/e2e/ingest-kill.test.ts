import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Queue } from "bullmq";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { PROCESS_START_MS, startCli, type CliProcess } from "../helpers/cli.js";
import {
  createEventQueues,
  MOTO_MISSING,
  queueDepth,
  sendEvent,
  startMoto,
  type Moto,
} from "../helpers/moto-server.js";
import { invitationId, receivedEvent } from "../helpers/partner-events.js";
import { startRedisServer, type OwnRedis } from "../helpers/redis-server.js";
import { uniquePrefix } from "../helpers/redis.js";
import { waitFor } from "../helpers/wait.js";

/**
 * `pc-invitations ingest` as real processes: one SIGKILLed in the middle of a batch loses nothing
 * and duplicates nothing; its messages come back (visibility timeout) to the next one.
 */
beforeAll(() => {
  if (MOTO_MISSING) throw new Error(MOTO_MISSING);
});

let moto: Moto | undefined;
let redis: OwnRedis | undefined;
const children: CliProcess[] = [];
const dir = mkdtempSync(join(tmpdir(), "pci-ingest-"));
afterEach(async () => {
  for (const c of children.splice(0)) if (c.child.exitCode === null) c.child.kill("SIGKILL");
  await moto?.stop();
  moto?.sqs.destroy();
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("ingest processes", { timeout: 300_000 }, () => {
  it(
    "an ingest SIGKILLed mid-batch: every event is handled once the next " +
      "one runs, one request per invitation, the queue emptied; SIGTERM " +
      "drains and exits 0",
    async () => {
      moto = await startMoto();
      redis = await startRedisServer();
      const { queueUrl } = await createEventQueues(moto.sqs, "events-kill", 5);
      const policy = join(dir, "policy.json");
      writeFileSync(policy, JSON.stringify({ default: "accept", rules: [] }));
      const prefix = uniquePrefix("ingest-kill");
      const env = {
        REDIS_URL: redis.url,
        QUEUE_PREFIX: prefix,
        AWS_ENDPOINT_URL_SQS: moto.url,
        AWS_ENDPOINT_URL_PARTNERCENTRAL_ACCOUNT: "http://127.0.0.1:9",
        INGEST_VISIBILITY_TIMEOUT_SECONDS: "5",
        INGEST_WAIT_SECONDS: "1",
        SHUTDOWN_GRACE_MS: "10000",
        LOG_LEVEL: "info",
      };
      const ids = Array.from({ length: 30 }, () => invitationId());
      for (const id of ids) await sendEvent(moto.sqs, queueUrl, receivedEvent(id));
      // Repeated events (SQS delivers at least once).
      for (const id of ids.slice(0, 10)) await sendEvent(moto.sqs, queueUrl, receivedEvent(id));

      const first = startCli(["ingest", "--queue-url", queueUrl, "--policy", policy], env);
      children.push(first);
      await waitFor(() => first.stderr().includes('"msg":"ingest.event"'), PROCESS_START_MS, "the first event handled");
      // Redis frozen: the batch in hand cannot finish, whatever the machine's speed; then the kill.
      redis.process.kill("SIGSTOP");
      await new Promise((r) => setTimeout(r, 1500));
      first.child.kill("SIGKILL");
      redis.process.kill("SIGCONT");
      const killed = await first.exited;
      expect(killed.signal).toBe("SIGKILL");
      const handledBefore = first
        .stderr()
        .split("\n")
        .filter((l) => l.includes('"msg":"ingest.event"')).length;
      expect(handledBefore).toBeLessThan(40);

      const second = startCli(["ingest", "--queue-url", queueUrl, "--policy", policy], env);
      children.push(second);
      await waitFor(async () => (await queueDepth(moto!.sqs, queueUrl)) === 0, 120_000, "the queue emptied");
      const requests = new Queue("accept-invitation", { connection: { url: redis.url }, prefix });
      try {
        const jobs = await requests.getJobs(["waiting"], 0, 100);
        expect(jobs.map((j) => (j.data as { request: { identifier: string } }).request.identifier).sort()).toEqual(
          [...ids].sort(),
        );
      } finally {
        await requests.close();
      }
      second.child.kill("SIGTERM");
      const stopped = await second.exited;
      expect(stopped.code, second.stderr().slice(-2000)).toBe(0);
      expect(second.stderr()).toContain('"drained":true');
    },
  );
});
