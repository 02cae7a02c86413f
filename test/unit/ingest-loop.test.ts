import { describe, expect, it } from "vitest";
import type { EventQueue, QueueMessage, ReceiveOptions } from "../../src/aws/event-queue.js";
import { createLogger } from "../../src/observability/logger.js";
import { runIngestLoop } from "../../src/producer/ingest-loop.js";
import type { PartnerEvent } from "../../src/schemas/partnercentral-events.js";
import { canceledEvent, invitationId } from "../helpers/partner-events.js";

/**
 * The loop's concurrency over an in-memory queue (pure logic; the SQS adapter is covered by the
 * moto_server suites): the next receive does not wait for the batch in hand, and a stop waits for
 * every batch in hand to be worked on and deleted.
 */
function memoryQueue() {
  const pending: QueueMessage[] = [];
  const deleted: string[] = [];
  const waiters: Array<() => void> = [];
  let receives = 0;
  const queue: EventQueue = {
    async receive(o: ReceiveOptions) {
      receives++;
      while (pending.length === 0) {
        if (o.signal?.aborted) throw o.signal.reason;
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          o.signal?.addEventListener("abort", () => resolve(), { once: true });
        });
      }
      return pending.splice(0, o.max);
    },
    async delete(messages) {
      deleted.push(...messages.map((m) => m.messageId));
      return [];
    },
    async setVisibility() {
      return [];
    },
    destroy() {},
  };
  return {
    queue,
    deleted,
    receives: () => receives,
    send(id: string) {
      pending.push({
        messageId: id,
        receiptHandle: `rh-${id}`,
        body: JSON.stringify(canceledEvent(invitationId())),
        receiveCount: 1,
        sentAt: Date.now(),
      });
      for (const w of waiters.splice(0)) w();
    },
  };
}

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 2000 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(check()).toBe(true);
}

const options = { batchSize: 10, waitSeconds: 1, visibilitySeconds: 60, backoffMs: 10, backoffMaxMs: 100 };

describe("runIngestLoop", () => {
  it(
    "receives the next batch while a batch is worked on (batchesInFlight " +
      "3); a stop during a receive waits for both batches in hand, deleted",
    async () => {
      const q = memoryQueue();
      const controller = new AbortController();
      const releases: Array<() => void> = [];
      const handled: string[] = [];
      const done = runIngestLoop(
        {
          queue: q.queue,
          logger: createLogger({ level: "silent" }),
          signal: controller.signal,
          handle: async (event: PartnerEvent) => {
            await new Promise<void>((r) => releases.push(r));
            handled.push(event.eventId);
            return { result: "noted" };
          },
        },
        { ...options, batchesInFlight: 3 },
      );
      q.send("m1");
      await until(() => releases.length === 1);
      // The first batch's work is pending: the second message is received and worked on all the same.
      q.send("m2");
      await until(() => releases.length === 2);
      // The loop is in its third receive when the stop comes.
      await until(() => q.receives() === 3);
      let ended = false;
      void done.then(() => (ended = true));
      controller.abort(new Error("stop"));
      await new Promise((r) => setTimeout(r, 50));
      expect(ended).toBe(false);
      expect(q.deleted).toEqual([]);
      for (const r of releases) r();
      await done;
      expect(handled).toHaveLength(2);
      expect(q.deleted.sort()).toEqual(["m1", "m2"]);
    },
  );

  it("with batchesInFlight 1, the next receive waits for the batch in hand", async () => {
    const q = memoryQueue();
    const controller = new AbortController();
    const releases: Array<() => void> = [];
    const done = runIngestLoop(
      {
        queue: q.queue,
        logger: createLogger({ level: "silent" }),
        signal: controller.signal,
        handle: async () => {
          await new Promise<void>((r) => releases.push(r));
          return { result: "noted" };
        },
      },
      { ...options, batchesInFlight: 1 },
    );
    q.send("m1");
    await until(() => releases.length === 1);
    q.send("m2");
    await new Promise((r) => setTimeout(r, 50));
    expect(releases).toHaveLength(1);
    expect(q.receives()).toBe(1);
    releases[0]!();
    await until(() => releases.length === 2);
    controller.abort(new Error("stop"));
    releases[1]!();
    await done;
    expect(q.deleted.sort()).toEqual(["m1", "m2"]);
  });
});
