import type { InvitationEnd, InvitationEnds } from "../invitation-ends.js";
import type { RedisConnection } from "./connection.js";
import { invitationEndKey } from "./keys.js";

/**
 * The ended-invitation marks in Redis: one JSON string per invitation (keys.ts invitationEndKey),
 * written with SET NX EX (the first event that ended it stays: a later duplicate does not move its
 * time) and read with GET.
 */
export function createRedisInvitationEnds(connection: RedisConnection, prefix: string): InvitationEnds {
  return {
    async mark(end, ttlSeconds) {
      await connection.set(
        invitationEndKey(prefix, end.catalog, end.identifier),
        JSON.stringify(end),
        "EX",
        Math.max(1, Math.ceil(ttlSeconds)),
        "NX",
      );
    },
    async read(catalog, identifier) {
      const raw = await connection.get(invitationEndKey(prefix, catalog, identifier));
      if (raw === null) return undefined;
      try {
        return JSON.parse(raw) as InvitationEnd;
      } catch {
        // A mark that is not JSON still says the invitation ended.
        return { catalog, identifier, status: "ENDED", eventId: "", at: "" };
      }
    },
  };
}
