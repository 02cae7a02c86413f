import { z } from "zod";
import { DEFAULT_OPERATION, OPERATIONS, type Operation, type RequestAction } from "../operations/index.js";
import {
  catalogSchema,
  clientTokenSchema,
  CORRELATION_ID_MAX_LENGTH,
  IDEMPOTENCY_KEY_MAX_LENGTH,
  invitationIdSchema,
  metadataSchema,
} from "../schemas/request-fields.js";

export type { RequestAction };

/**
 * What a request does with its invitation: one of the operations (src/operations), accept by
 * default (so requests written before there was a choice mean what they always meant).
 */
export const REQUEST_ACTIONS = OPERATIONS.map((o) => o.action) as unknown as Actions<typeof OPERATIONS>;
type Actions<T> = { readonly [K in keyof T]: T[K] extends { action: infer A } ? A : never };

type UnionToIntersection<U> = (U extends unknown ? (u: U) => void : never) extends (i: infer I) => void ? I : never;
/** Every operation's own request fields (a reject's `reason`), each allowed with its action only. */
const operationFields = Object.assign({}, ...OPERATIONS.map((o) => o.requestFields)) as UnionToIntersection<
  Operation["requestFields"]
>;

const either = (words: readonly string[]) =>
  words.length === 1 ? words[0]! : `${words.slice(0, -1).join(", ")} or ${words.at(-1)}`;

/**
 * One request about an invitation, as callers submit it (library, CLI, HTTP): accept it (the
 * default) or another operation by its `action`, with that operation's own fields.
 */
export const acceptRequestSchema = z
  .strictObject(
    {
      catalog: catalogSchema,
      identifier: invitationIdSchema,
      action: z
        .enum(REQUEST_ACTIONS, { error: `must be ${either(REQUEST_ACTIONS.map((a) => `"${a}"`))}` })
        .optional()
        .describe(`${either(OPERATIONS.map((o) => o.describe))}.`),
      ...operationFields,
      clientToken: clientTokenSchema.optional(),
      correlationId: z
        .string({ error: "must be a string" })
        .min(1, { error: `must be 1-${CORRELATION_ID_MAX_LENGTH} characters` })
        .max(CORRELATION_ID_MAX_LENGTH, { error: `must be 1-${CORRELATION_ID_MAX_LENGTH} characters` })
        .optional()
        .describe("Caller's id for tracing; generated when absent and carried to the outcome."),
      metadata: metadataSchema.optional(),
      idempotencyKey: z
        .string({ error: "must be a string" })
        .min(1, { error: `must be 1-${IDEMPOTENCY_KEY_MAX_LENGTH} characters` })
        .max(IDEMPOTENCY_KEY_MAX_LENGTH, { error: `must be 1-${IDEMPOTENCY_KEY_MAX_LENGTH} characters` })
        .regex(/^[\x21-\x7E]+$/, { error: "must be printable ASCII without spaces" })
        .optional()
        .describe(
          "Caller's idempotency key. Default: `<catalog>.<identifier>`. Same key + same payload = the same request.",
        ),
    },
    {
      error: (issue) =>
        issue.code === "unrecognized_keys" ? `unknown field(s): ${issue.keys.join(", ")}` : "must be an object",
    },
  )
  .check((ctx) => {
    // An operation's own field would be dropped without a word by another action (AcceptConnectionInvitation
    // has no Reason).
    const action = ctx.value.action ?? DEFAULT_OPERATION.action;
    const value = ctx.value as Record<string, unknown>;
    for (const op of OPERATIONS) {
      if (op.action === action) continue;
      for (const field of Object.keys(op.requestFields)) {
        if (value[field] === undefined) continue;
        ctx.issues.push({
          code: "custom",
          input: value[field],
          path: [field],
          message: `only allowed with action "${op.action}"`,
        });
      }
    }
  });

/** The action of a request: the default operation's ("accept") unless it says otherwise. */
export function actionOf(request: { action?: RequestAction | undefined }): RequestAction {
  return request.action ?? DEFAULT_OPERATION.action;
}

export type AcceptRequest = z.infer<typeof acceptRequestSchema>;
export type AcceptRequestInput = z.input<typeof acceptRequestSchema>;
