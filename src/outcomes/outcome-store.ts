import type { OutcomeEvent } from "../schemas/outcome.js";

/** Proof that the caller still owns the request job: BullMQ's lock token for it. */
export interface Fence {
  jobId: string;
  token: string;
}

export type PublishResult =
  /** Published, and the request record (if any) marked completed. */
  | "published"
  /** An outcome for this request existed already: nothing written. */
  | "already-published"
  /** The job's lock is no longer ours (another worker has the job): nothing written. */
  | "fenced";

/** Where outcome events go. `publish` is idempotent per requestId and fenced by the job lock. */
export interface OutcomeStore {
  /** True when an outcome for this request was already published. */
  exists(requestId: string): Promise<boolean>;
  /** Publishes the event and completes the request's record (named by `idempotencyKey`) with it. */
  publish(event: OutcomeEvent, options?: { fence?: Fence; idempotencyKey?: string }): Promise<PublishResult>;
}
