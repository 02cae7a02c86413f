import type { Connection } from "../schemas/connection.js";
import type { Invitation } from "../schemas/invitation.js";

/**
 * SDK output → outcome-event JSON: Dates become ISO-8601 strings and the SDK's `$unknown: [key,
 * value]` for an unknown union member becomes `{ key: value }` again, so nothing AWS sent is lost.
 */
export function connectionToEvent(sdkConnection: unknown): Connection {
  return toJson(sdkConnection) as Connection;
}

/** SDK invitation record (GetConnectionInvitation, RejectConnectionInvitation) → outcome-event JSON, the same way. */
export function invitationToEvent(sdkInvitation: unknown): Invitation {
  return toJson(sdkInvitation) as Invitation;
}

function toJson(value: unknown): unknown {
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(toJson);
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (k === "$unknown" && Array.isArray(v) && v.length === 2 && typeof v[0] === "string") {
        out[v[0]] = toJson(v[1]);
      } else if (v !== undefined) {
        out[k] = toJson(v);
      }
    }
    return out;
  }
  return value;
}
