import { z } from "zod";
import { catalogSchema, invitationIdSchema, REJECT_REASON_MAX_LENGTH } from "./request-fields.js";

/** What a person decides on a held invitation. */
export const DECISION_ACTIONS = ["accept", "reject"] as const;
export type DecisionAction = (typeof DECISION_ACTIONS)[number];

/** Longest `decidedBy`: a person's name or a token's identity. */
export const DECIDED_BY_MAX_LENGTH = 200;

/** The body of POST /v1/held/{catalog}/{identifier}/decision (and the CLI's `decide` arguments). */
export const decisionBodySchema = z
  .strictObject(
    {
      action: z.enum(DECISION_ACTIONS, { error: 'must be "accept" or "reject"' }).describe("What to do with it."),
      reason: z
        .string({ error: "must be a string" })
        .max(REJECT_REASON_MAX_LENGTH, { error: `must be at most ${REJECT_REASON_MAX_LENGTH} characters` })
        .optional()
        .describe(`With action "reject" only: the Reason sent to RejectConnectionInvitation.`),
    },
    {
      error: (issue) =>
        issue.code === "unrecognized_keys" ? `unknown field(s): ${issue.keys.join(", ")}` : "must be an object",
    },
  )
  .check((ctx) => {
    if (ctx.value.reason !== undefined && ctx.value.action !== "reject")
      ctx.issues.push({
        code: "custom",
        input: ctx.value.reason,
        path: ["reason"],
        message: 'only allowed with action "reject"',
      });
  });

export type DecisionBody = z.infer<typeof decisionBodySchema>;

/** A whole decision, as decide() takes it. */
export const decisionSchema = decisionBodySchema.and(
  z.object({
    catalog: catalogSchema,
    identifier: invitationIdSchema,
    decidedBy: z
      .string({ error: "must be a string" })
      .min(1, { error: `must be 1-${DECIDED_BY_MAX_LENGTH} characters` })
      .max(DECIDED_BY_MAX_LENGTH, { error: `must be 1-${DECIDED_BY_MAX_LENGTH} characters` })
      .regex(/^[\p{L}\p{N}\p{P}\p{S} ]+$/u, { error: "must be letters, digits, punctuation and spaces" }),
  }),
);
export type Decision = z.infer<typeof decisionSchema>;
