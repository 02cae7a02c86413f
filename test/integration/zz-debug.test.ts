import { it } from "vitest";
import { startMoto, createEventQueues, sendEvent } from "../helpers/moto-server.js";
import { createSqsEventQueue } from "../../src/aws/sqs-event-queue.js";
import { TEST_CREDENTIALS } from "../helpers/pipeline.js";
it("dbg", async () => {
  const moto = await startMoto();
  const q = await createEventQueues(moto.sqs, "dbg");
  await sendEvent(moto.sqs, q.queueUrl, { a: 1 });
  const eq = createSqsEventQueue({ queueUrl: q.queueUrl, endpoint: moto.url, credentials: TEST_CREDENTIALS, region: "us-east-1" });
  const ac = new AbortController();
  const m = await eq.receive({ max: 10, waitSeconds: 1, visibilitySeconds: 5, signal: ac.signal });
  console.log("received", m.length);
  await moto.stop();
}, 120000);
