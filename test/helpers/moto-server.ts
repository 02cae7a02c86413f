import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { freePort } from "./net.js";
import { waitFor } from "./wait.js";
import { TEST_CREDENTIALS } from "./pipeline.js";

/**
 * moto's server (`moto_server`, from Python's `moto[server]`): a real SQS-compatible server that
 * speaks the JSON protocol today's @aws-sdk/client-sqs uses. The tests start it on a free port and
 * stop it after; they need it installed (this machine: /root/.pyenv/shims/moto_server, Python 3.11).
 */
export const MOTO_SERVER = process.env.MOTO_SERVER ?? findMoto();

function findMoto(): string | undefined {
  for (const dir of [...(process.env.PATH ?? "").split(":"), "/root/.pyenv/shims"])
    if (dir && existsSync(`${dir}/moto_server`)) return `${dir}/moto_server`;
  return undefined;
}

/** Why the SQS tests cannot run here, and how to make them run; undefined when moto_server is there. */
export const MOTO_MISSING = MOTO_SERVER
  ? undefined
  : "moto_server is not installed: the SQS tests need a real SQS-compatible server. Install it with " +
    "`pip install 'moto[server]'` (Python ≥ 3.9), or set MOTO_SERVER to its path.";

export interface Moto {
  url: string;
  port: number;
  sqs: SQSClient;
  /** Stops the server (its queues are gone with it). */
  stop(): Promise<void>;
  /** Starts it again on the same port (empty). */
  start(): Promise<void>;
}

export async function startMoto(): Promise<Moto> {
  if (!MOTO_SERVER) throw new Error(MOTO_MISSING);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  const sqs = new SQSClient({ region: "us-east-1", endpoint: url, credentials: TEST_CREDENTIALS, maxAttempts: 1 });
  const moto: Moto = {
    url,
    port,
    sqs,
    async start() {
      child = spawn(MOTO_SERVER!, ["-H", "127.0.0.1", "-p", String(port)], { stdio: ["ignore", "ignore", "pipe"] });
      let err = "";
      child.stderr!.on("data", (d) => (err += d));
      await waitFor(
        async () => {
          if (child!.exitCode !== null) throw new Error(`moto_server exited: ${err.slice(-500)}`);
          return fetch(`${url}/moto-api/`).then(
            (r) => r.status < 500,
            () => false,
          );
        },
        60_000,
        "moto_server to listen",
      );
    },
    async stop() {
      const c = child;
      child = undefined;
      if (!c || c.exitCode !== null) return;
      const exited = new Promise((r) => c.once("exit", r));
      c.kill("SIGTERM");
      const timer = setTimeout(() => c.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
  await moto.start();
  return moto;
}

/** A queue with a dead-letter queue (redrive policy: `maxReceiveCount` receipts), as deploy/ makes them. */
export async function createEventQueues(
  sqs: SQSClient,
  name: string,
  maxReceiveCount = 3,
): Promise<{ queueUrl: string; dlqUrl: string }> {
  const dlq = await sqs.send(new CreateQueueCommand({ QueueName: `${name}-dlq` }));
  const dlqArn = (
    await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl!, AttributeNames: ["QueueArn"] }))
  ).Attributes!.QueueArn!;
  const q = await sqs.send(
    new CreateQueueCommand({
      QueueName: name,
      Attributes: {
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: String(maxReceiveCount) }),
      },
    }),
  );
  return { queueUrl: q.QueueUrl!, dlqUrl: dlq.QueueUrl! };
}

export async function sendEvent(sqs: SQSClient, queueUrl: string, body: unknown): Promise<void> {
  await sqs.send(
    new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: typeof body === "string" ? body : JSON.stringify(body) }),
  );
}

/** Messages on the queue, visible and in flight. */
export async function queueDepth(sqs: SQSClient, queueUrl: string): Promise<number> {
  const a = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    }),
  );
  return (
    Number(a.Attributes!.ApproximateNumberOfMessages) + Number(a.Attributes!.ApproximateNumberOfMessagesNotVisible)
  );
}

/** Bodies of the messages on a queue (received with visibility 0: left there). */
export async function peekBodies(sqs: SQSClient, queueUrl: string): Promise<string[]> {
  const r = await sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: queueUrl,
      MaxNumberOfMessages: 10,
      VisibilityTimeout: 0,
      WaitTimeSeconds: 0,
    }),
  );
  return (r.Messages ?? []).map((m) => m.Body ?? "");
}
