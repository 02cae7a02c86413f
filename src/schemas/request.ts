import { z } from "zod";

/**
 * Field patterns of AcceptConnectionInvitation, anchored exactly as in the Smithy model
 * (see shared/reference/partnercentral-account-api.md §2.1). The SDK validates nothing
 * client-side, so these are the only checks before AWS sees a request.
 */
export const CATALOG_PATTERN = /^[a-zA-Z0-9-]+$/;
export const INVITATION_ID_PATTERN = /^pacinv-[A-Za-z0-9]{13}$/;
export const CLIENT_TOKEN_PATTERN = /^[A-Za-z0-9-_]+$/;

/** Largest accepted `metadata`, measured as UTF-8 bytes of its JSON text. */
export const METADATA_MAX_BYTES = 4096;
/** Longest accepted `idempotencyKey`. */
export const IDEMPOTENCY_KEY_MAX_LENGTH = 256;
/** Largest accepted `correlationId`. */
export const CORRELATION_ID_MAX_LENGTH = 128;

export const catalogSchema = z
  .string({ error: "must be a string" })
  .min(1, { error: "must be 1-64 characters" })
  .max(64, { error: "must be 1-64 characters" })
  .regex(CATALOG_PATTERN, { error: "must match ^[a-zA-Z0-9-]+$ (documented values: AWS, Sandbox)" })
  .describe("Partner Central catalog. Documented values: AWS, Sandbox.");

export const invitationIdSchema = z
  .string({ error: "must be a string" })
  .regex(INVITATION_ID_PATTERN, { error: "must match ^pacinv-[A-Za-z0-9]{13}$" })
  .describe("Connection invitation id, e.g. pacinv-ABCDEFGHIJKLM.");

export const clientTokenSchema = z
  .string({ error: "must be a string" })
  .min(1, { error: "must be 1-64 characters" })
  .max(64, { error: "must be 1-64 characters" })
  .regex(CLIENT_TOKEN_PATTERN, { error: "must match ^[A-Za-z0-9-_]+$" })
  .describe("Idempotency token sent to AWS as ClientToken. Derived from catalog+identifier when absent.");

export const metadataSchema = z
  .record(z.string(), z.json())
  .refine((m) => Buffer.byteLength(JSON.stringify(m), "utf8") <= METADATA_MAX_BYTES, {
    error: `must be at most ${METADATA_MAX_BYTES} bytes as JSON`,
  })
  .describe(`Caller's JSON object (≤ ${METADATA_MAX_BYTES} bytes), carried untouched to the outcome event.`);

/** One "accept this invitation" request, as callers submit it (library, CLI, HTTP). */
export const acceptRequestSchema = z.strictObject(
  {
    catalog: catalogSchema,
    identifier: invitationIdSchema,
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
      .describe("Caller's idempotency key. Default: `<catalog>.<identifier>`. Same key + same payload = the same request."),
  },
  { error: (issue) => (issue.code === "unrecognized_keys" ? `unknown field(s): ${issue.keys.join(", ")}` : "must be an object") },
);

export type AcceptRequest = z.infer<typeof acceptRequestSchema>;
export type AcceptRequestInput = z.input<typeof acceptRequestSchema>;
