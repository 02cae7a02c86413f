import { z } from "zod";
import { catalogSchema, REJECT_REASON_MAX_LENGTH } from "./request-fields.js";

/**
 * A discovery policy: what `pc-invitations discover` does with each pending invitation. Rules are
 * tried in order and the first whose `when` matches decides; `default` decides the rest. Every
 * condition of a `when` must hold (AND); within a list, any value matches (OR); a rule without
 * conditions matches every invitation. `hold` enqueues nothing: the invitation waits for a person.
 */
export const POLICY_DECISIONS = ["accept", "reject", "hold"] as const;
export type PolicyDecision = (typeof POLICY_DECISIONS)[number];

/** Connection types a rule may name (the model's `ConnectionType` enum). */
export const POLICY_CONNECTION_TYPES = ["OPPORTUNITY_COLLABORATION", "SUBSIDIARY"] as const;

/** `ParticipantIdentifier` of the model: an account id or a profile id. */
const PARTICIPANT_IDENTIFIER = /^[a-zA-Z0-9-]{1,100}$/;
/** A DNS name, compared without case: `acme.example`. */
const EMAIL_DOMAIN =
  /^(?=.{1,253}$)[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/;

const unknownFields = (what: string) => ({
  error: (issue: { code: string; keys?: string[] }) =>
    issue.code === "unrecognized_keys" ? `unknown field(s): ${issue.keys!.join(", ")}` : `must be ${what}`,
});

const list = <T extends z.ZodType>(item: T, what: string) =>
  z
    .array(item, { error: `must be a list of ${what}` })
    .min(1, { error: "must list at least one value (leave the condition out to match every invitation)" });

export const policyConditionsSchema = z.strictObject(
  {
    otherParticipantIdentifiers: list(
      z.string({ error: "must be a string" }).regex(PARTICIPANT_IDENTIFIER, {
        error: "must match ^[a-zA-Z0-9-]+$ (1-100 characters): an account or profile id",
      }),
      "account or profile ids",
    )
      .optional()
      .describe("The invitation's OtherParticipantIdentifier is one of these (account ids or profile ids)."),
    connectionTypes: list(
      z.enum(POLICY_CONNECTION_TYPES, { error: `must be one of ${POLICY_CONNECTION_TYPES.join(", ")}` }),
      "connection types",
    )
      .optional()
      .describe("The invitation's ConnectionType is one of these."),
    inviterEmailDomains: list(
      z
        .string({ error: "must be a string" })
        .regex(EMAIL_DOMAIN, { error: "must be a domain name, e.g. acme.example" }),
      "domain names",
    )
      .optional()
      .describe(
        "The inviter's e-mail address is at one of these domains (exact, without case; subdomains " +
          "are other domains). Read with GetConnectionInvitation: list summaries do not carry it.",
      ),
  },
  unknownFields("an object of conditions"),
);

export const policyRuleSchema = z
  .strictObject(
    {
      action: z.enum(POLICY_DECISIONS, { error: 'must be "accept", "reject" or "hold"' }),
      reason: z
        .string({ error: "must be a string" })
        .max(REJECT_REASON_MAX_LENGTH, { error: `must be at most ${REJECT_REASON_MAX_LENGTH} characters` })
        .optional()
        .describe('With action "reject" only: the Reason sent to RejectConnectionInvitation.'),
      when: policyConditionsSchema.optional().describe("Conditions, all of which must hold; none = every invitation."),
    },
    unknownFields("an object with action, reason and when"),
  )
  .check((ctx) => {
    if (ctx.value.reason !== undefined && ctx.value.action !== "reject") {
      ctx.issues.push({
        code: "custom",
        input: ctx.value.reason,
        path: ["reason"],
        message: 'only allowed with action "reject"',
      });
    }
  });

export const discoveryPolicySchema = z
  .strictObject(
    {
      default: z
        .enum(POLICY_DECISIONS, { error: 'must be "accept", "reject" or "hold"' })
        .default("hold")
        .describe("What happens to an invitation no rule matches. Default: hold (nothing is accepted by surprise)."),
      rules: z
        .array(policyRuleSchema, { error: "must be a list of rules" })
        .default([])
        .describe("Tried in order; the first that matches decides."),
    },
    unknownFields("an object with default and rules"),
  )
  .describe("What `pc-invitations discover` does with each pending invitation.");

export type DiscoveryPolicy = z.infer<typeof discoveryPolicySchema>;
export type DiscoveryPolicyInput = z.input<typeof discoveryPolicySchema>;
export type PolicyRule = z.infer<typeof policyRuleSchema>;

/**
 * Largest policy file (or text) read, bytes: 1 MiB, like the HTTP API's body limit. A policy is a
 * few rules; the bound keeps a wrong file (a log, a dump) from costing gigabytes before it is refused.
 */
export const POLICY_MAX_BYTES = 1_048_576;
/** Deepest nesting of lists and objects in a policy text (a policy needs 5: rules, a rule, when, a list). */
export const POLICY_MAX_DEPTH = 32;

/** Without a policy every pending invitation is held. */
export const HOLD_ALL_POLICY: DiscoveryPolicy = Object.freeze({ default: "hold", rules: [] }) as DiscoveryPolicy;

/**
 * What one discovery is asked to do: the body of `POST /v1/discoveries`, and the data of the
 * scheduled discovery job of `discover --every` (so every process of the fleet runs the same one).
 */
export const discoveryRequestSchema = z.strictObject(
  {
    catalogs: z
      .array(catalogSchema, { error: "must be a list of catalogs" })
      .min(1, { error: "must list at least one catalog" })
      .max(16, { error: "must list at most 16 catalogs" })
      .describe('Catalogs to look in, e.g. ["AWS"].'),
    policy: discoveryPolicySchema.optional().describe("The policy; without one every pending invitation is held."),
    dryRun: z.boolean({ error: "must be true or false" }).optional().describe("Read and decide, enqueue nothing."),
  },
  unknownFields("an object with catalogs, policy and dryRun"),
);

export type DiscoveryRequest = z.infer<typeof discoveryRequestSchema>;
