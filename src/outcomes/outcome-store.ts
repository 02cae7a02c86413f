import type { OutcomeEvent } from "../schemas/outcome.js";

/** Where outcome events go. `publish` is idempotent per requestId. */
export interface OutcomeStore {
  /** True when an outcome for this request was already published. */
  exists(requestId: string): Promise<boolean>;
  publish(event: OutcomeEvent): Promise<void>;
}
