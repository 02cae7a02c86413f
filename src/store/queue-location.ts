import { CONFIG_DEFAULTS, type Config } from "../schemas/config.js";

/** Where the two queues live. Same prefix for both so one hash tag covers everything. */
export interface QueueLocation {
  prefix: string;
  requestsQueue: string;
  outcomesQueue: string;
}

export function queueLocationFrom(
  config: Pick<Config, "QUEUE_PREFIX" | "REQUESTS_QUEUE" | "OUTCOMES_QUEUE">,
): QueueLocation {
  return { prefix: config.QUEUE_PREFIX, requestsQueue: config.REQUESTS_QUEUE, outcomesQueue: config.OUTCOMES_QUEUE };
}

/** QUEUE_PREFIX, REQUESTS_QUEUE and OUTCOMES_QUEUE left unset: `{pci}`, accept-invitation, invitation-outcomes. */
export const DEFAULT_QUEUE_LOCATION: Readonly<QueueLocation> = Object.freeze(queueLocationFrom(CONFIG_DEFAULTS));
