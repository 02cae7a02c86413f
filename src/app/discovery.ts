import type { InvitationApi } from "../aws/invitation-api.js";
import { pacedLookups, type Pacing } from "../consumer/pacing.js";
import type { Producer } from "../producer/producer.js";
import { discover, type DiscoveryOptions, type DiscoverySummary } from "../producer/discover.js";
import { heldPortOf, type HeldDeps } from "./held.js";

/** A discovery with everything but its options wired: what `discover`, `serve` and the scheduler run. */
export type Discovery = (options: DiscoveryOptions) => Promise<DiscoverySummary>;

/**
 * Discovery over the API and the producer, every API call through the shared limit of its
 * catalog (the limit a worker's calls for that catalog count against). `defaults` apply to every
 * run that does not set them (DISCOVERY_MAX_PAGES, DISCOVERY_MAX_LISTED). With `held`, every
 * invitation a run holds is recorded, and one held before that the listing no longer shows is
 * read once more (through the shared limit, like every call) and closed. A run's `signal` also
 * ends its waits for a slot of the shared limit: an aborted run takes no slot it was waiting for.
 */
export function createDiscovery(deps: {
  api: InvitationApi;
  pacing: Pacing;
  producer: Pick<Producer, "enqueueMany" | "preview">;
  defaults?: Pick<DiscoveryOptions, "maxPages" | "maxListed">;
  /** The held invitations: each one a run holds is recorded (and announced); without it, none is. */
  held?: HeldDeps;
}): Discovery {
  const held = deps.held ? heldPortOf(deps.held) : undefined;
  return (options) => {
    const lookups = (catalog: string) =>
      pacedLookups(deps.api, deps.pacing, deps.pacing.keyFor(catalog), options.signal);
    return discover(
      {
        api: {
          listInvitations: (input, callOptions) => lookups(input.catalog).listInvitations(input, callOptions),
          getInvitation: (input, callOptions) => lookups(input.catalog).getInvitation(input, callOptions),
        },
        enqueueMany: (requests) => deps.producer.enqueueMany(requests),
        preview: (requests) => deps.producer.preview(requests),
        ...(held ? { held } : {}),
      },
      { ...deps.defaults, ...options },
    );
  };
}
