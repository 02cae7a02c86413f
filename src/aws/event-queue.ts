/**
 * The queue the ingest command reads Partner Central's events from (SQS, fed by an EventBridge
 * rule): the port the intake depends on. sqs-event-queue.ts is its adapter; a message is deleted
 * only by `delete`, so one that is never deleted comes back after its visibility timeout, and
 * after the queue's maxReceiveCount goes to its dead-letter queue (the queue's redrive policy).
 */
export interface EventQueue {
  /**
   * Up to `max` messages (1-10), waiting up to `waitSeconds` for the first (long polling), each
   * hidden from other receivers for `visibilitySeconds`. An empty list when none came. Ended by
   * `signal` (a shutdown): rejects with its reason.
   */
  receive(options: ReceiveOptions): Promise<QueueMessage[]>;
  /** Deletes the messages (their work is recorded). The ids of those the queue did not delete. */
  delete(messages: readonly QueueMessage[]): Promise<string[]>;
  /**
   * Hides the messages for `seconds` more from now (extends the work on them; 0 hands them back at
   * once). The ids of those the queue refused (a receipt that expired: another receiver has it).
   */
  setVisibility(messages: readonly QueueMessage[], seconds: number): Promise<string[]>;
  /** Closes the client's sockets. */
  destroy(): void;
}

export interface ReceiveOptions {
  max: number;
  waitSeconds: number;
  visibilitySeconds: number;
  signal?: AbortSignal;
}

export interface QueueMessage {
  messageId: string;
  receiptHandle: string;
  body: string;
  /** How many times the queue has handed it out (ApproximateReceiveCount), this one included. */
  receiveCount: number;
  /** When it arrived on the queue (SentTimestamp), ms since the epoch; null when the queue did not say. */
  sentAt: number | null;
}
