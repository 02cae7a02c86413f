import { z } from "zod";
import { acceptRequestSchema } from "./request.js";
import { outcomeEventSchema } from "./outcome.js";
import { discoveryPolicySchema } from "../schemas/policy.js";
import { noticeSchema } from "./notice.js";

/**
 * JSON Schema (draft 2020-12) of the public contracts, for consumers not written in TypeScript.
 * The committed files under schemas/ are generated from this; a test fails when they drift.
 */
export function contractJsonSchemas(): Record<string, unknown> {
  return {
    "accept-request.schema.json": {
      $id: "https://pc-invitations.dev/schemas/accept-request.schema.json",
      title: "AcceptRequest",
      ...z.toJSONSchema(acceptRequestSchema, { io: "input", unrepresentable: "any" }),
    },
    "outcome-event.schema.json": {
      $id: "https://pc-invitations.dev/schemas/outcome-event.schema.json",
      title: "OutcomeEvent",
      ...z.toJSONSchema(outcomeEventSchema, { io: "output", unrepresentable: "any" }),
    },
    "discovery-policy.schema.json": {
      $id: "https://pc-invitations.dev/schemas/discovery-policy.schema.json",
      title: "DiscoveryPolicy",
      ...z.toJSONSchema(discoveryPolicySchema, { io: "input", unrepresentable: "any" }),
    },
    "notice.schema.json": {
      $id: "https://pc-invitations.dev/schemas/notice.schema.json",
      title: "Notice",
      ...z.toJSONSchema(noticeSchema, { io: "output", unrepresentable: "any" }),
    },
  };
}
