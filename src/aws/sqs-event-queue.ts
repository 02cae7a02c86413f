import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  SQSClient,
  type SQSClientConfig,
} from "@aws-sdk/client-sqs";
import type { EventQueue, QueueMessage, ReceiveOptions } from "./event-queue.js";
import { CONFIG_DEFAULTS } from "../schemas/config.js";

export interface SqsEventQueueOptions {
  queueUrl: string;
  /** @defaultValue us-east-1 (where Partner Central's events are) */
  region?: string;
  /**
   * The SQS endpoint (AWS_ENDPOINT_URL_SQS, the SDK's standard setting; a local SQS-compatible
   * server). Unset: the SDK's own resolution (the queue URL's host, or the region's endpoint).
   */
  endpoint?: string;
  /** Static credentials; unset = the standard AWS credential chain. */
  credentials?: SQSClientConfig["credentials"];
  /**
   * Bound on one call beyond its long-poll wait, ms: a receive gets `waitSeconds` + this, any other
   * call this. @defaultValue 10000
   */
  requestTimeoutMs?: number;
}

/**
 * The SQS adapter of the event queue: the one module that imports @aws-sdk/client-sqs. SDK retries
 * are off (maxAttempts 1): the ingest loop backs off and tries again itself, bounded and logged.
 * Every call is bounded by an abort signal (a hung server or a stopped one cannot hold a shutdown).
 */
export function createSqsEventQueue(options: SqsEventQueueOptions): EventQueue {
  const timeoutMs = options.requestTimeoutMs ?? 10_000;
  const client = new SQSClient({
    region: options.region ?? CONFIG_DEFAULTS.AWS_REGION,
    maxAttempts: 1,
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
    requestHandler: { connectionTimeout: Math.min(timeoutMs, 5_000) },
  });
  const QueueUrl = options.queueUrl;

  async function send<T>(boundMs: number, signal: AbortSignal | undefined, call: (s: AbortSignal) => Promise<T>) {
    const controller = new AbortController();
    const timer = setTimeout(
      () => controller.abort(new DOMException(`SQS did not answer within ${boundMs} ms`, "TimeoutError")),
      boundMs,
    );
    const onAbort = () => controller.abort(signal!.reason);
    if (signal?.aborted) onAbort();
    else signal?.addEventListener("abort", onAbort, { once: true });
    try {
      return await Promise.race([
        call(controller.signal),
        new Promise<never>((_, reject) => {
          const fail = () => reject(controller.signal.reason);
          if (controller.signal.aborted) fail();
          else controller.signal.addEventListener("abort", fail, { once: true });
        }),
      ]);
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
    }
  }

  /** Batch calls take at most 10 entries. */
  const chunks = <T>(items: readonly T[]): T[][] => {
    const out: T[][] = [];
    for (let i = 0; i < items.length; i += 10) out.push(items.slice(i, i + 10));
    return out;
  };

  return {
    async receive(o: ReceiveOptions): Promise<QueueMessage[]> {
      const answer = await send(o.waitSeconds * 1000 + timeoutMs, o.signal, (abortSignal) =>
        client.send(
          new ReceiveMessageCommand({
            QueueUrl,
            MaxNumberOfMessages: o.max,
            WaitTimeSeconds: o.waitSeconds,
            VisibilityTimeout: o.visibilitySeconds,
            MessageSystemAttributeNames: ["ApproximateReceiveCount", "SentTimestamp"],
          }),
          { abortSignal },
        ),
      );
      return (answer.Messages ?? []).map((m) => ({
        messageId: m.MessageId ?? "",
        receiptHandle: m.ReceiptHandle ?? "",
        body: m.Body ?? "",
        receiveCount: Number(m.Attributes?.ApproximateReceiveCount ?? 1),
        sentAt: m.Attributes?.SentTimestamp ? Number(m.Attributes.SentTimestamp) : null,
      }));
    },
    async delete(messages) {
      const failed: string[] = [];
      for (const batch of chunks(messages)) {
        const answer = await send(timeoutMs, undefined, (abortSignal) =>
          client.send(
            new DeleteMessageBatchCommand({
              QueueUrl,
              Entries: batch.map((m, i) => ({ Id: String(i), ReceiptHandle: m.receiptHandle })),
            }),
            { abortSignal },
          ),
        );
        for (const f of answer.Failed ?? []) failed.push(batch[Number(f.Id)]?.messageId ?? String(f.Id));
      }
      return failed;
    },
    async setVisibility(messages, seconds) {
      const failed: string[] = [];
      for (const batch of chunks(messages)) {
        const answer = await send(timeoutMs, undefined, (abortSignal) =>
          client.send(
            new ChangeMessageVisibilityBatchCommand({
              QueueUrl,
              Entries: batch.map((m, i) => ({
                Id: String(i),
                ReceiptHandle: m.receiptHandle,
                VisibilityTimeout: seconds,
              })),
            }),
            { abortSignal },
          ),
        );
        for (const f of answer.Failed ?? []) failed.push(batch[Number(f.Id)]?.messageId ?? String(f.Id));
      }
      return failed;
    },
    destroy: () => client.destroy(),
  };
}
