import type { Config } from "../schemas/config.js";

/** Where the two queues live. Same prefix for both so one hash tag covers everything. */
export interface QueueLocation {
  prefix: string;
  requestsQueue: string;
  outcomesQueue: string;
}

export const DEFAULT_QUEUE_LOCATION: QueueLocation = {
  prefix: "{pci}",
  requestsQueue: "accept-invitation",
  outcomesQueue: "invitation-outcomes",
};

export function queueLocationFrom(config: Config): QueueLocation {
  return { prefix: config.QUEUE_PREFIX, requestsQueue: config.REQUESTS_QUEUE, outcomesQueue: config.OUTCOMES_QUEUE };
}
