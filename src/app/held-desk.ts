import type { InvitationApi } from "../aws/invitation-api.js";
import { pacedLookups } from "../consumer/pacing.js";
import type { Logger } from "../observability/logger.js";
import type { Producer } from "../producer/producer.js";
import type { Config } from "../schemas/config.js";
import type { HeldInvitation, HeldPage, HeldQuery, InvitationRef } from "../store/held-store.js";
import type { RedisConnection } from "../store/redis/connection.js";
import {
  apiFromConfig,
  heldFromConfig,
  pacingFromConfig,
  rateLimiterFromConfig,
  requestStoreFromConfig,
} from "./from-config.js";
import { decide, type DecisionResult, type HeldDeps } from "./held.js";

/** The held invitations as the CLI and the HTTP API use them: list, read, decide. */
export interface HeldDesk {
  list(query: HeldQuery): Promise<HeldPage>;
  get(ref: InvitationRef): Promise<HeldInvitation | undefined>;
  /** decide() (app/held.ts): `{ catalog, identifier, action, reason?, decidedBy }`. */
  decide(input: unknown): Promise<DecisionResult>;
  /** What discovery and the periodic check take (the same store). */
  readonly deps: HeldDeps;
  /** Closes the stores and the API client it made (not `redis`, not the producer). */
  close(): Promise<void>;
}

/**
 * The held invitations on the deployment's queues; decisions are enqueued by `producer` (one on
 * the same requests queue), and an invitation never held is read first through the shared limit,
 * with `options.api` or the API of the config (credentials resolved at the first read).
 */
export function createHeldDesk(
  config: Config,
  redis: RedisConnection,
  producer: Pick<Producer, "enqueueDecision">,
  options: { api?: InvitationApi; logger?: Logger } = {},
): HeldDesk {
  const held = heldFromConfig(config, redis, options.logger);
  const jobs = requestStoreFromConfig(config, redis, { writesQueueMeta: false });
  const own = options.api ? undefined : apiFromConfig(config);
  const api = options.api ?? own!;
  const pacing = pacingFromConfig(config, rateLimiterFromConfig(config, redis));
  return {
    deps: held,
    list: (query) => held.store.listHeld(query),
    get: (ref) => held.store.getHeld(ref),
    decide: (input) =>
      decide(
        {
          ...held,
          producer,
          jobs,
          api: {
            getInvitation: (ref, o) => pacedLookups(api, pacing, pacing.keyFor(ref.catalog)).getInvitation(ref, o),
          },
        },
        input,
      ),
    async close() {
      own?.destroy();
      await Promise.all([held.close(), jobs.close()]);
    },
  };
}
