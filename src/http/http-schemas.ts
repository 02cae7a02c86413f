import { z } from "zod";
import { acceptRequestSchema } from "../schemas/request.js";
import { outcomeEventSchema } from "../schemas/outcome.js";
import { ACCEPTANCE_STATES } from "./acceptance-status.js";
import { ERROR_CODES } from "./http-errors.js";

/**
 * Shapes of the HTTP API bodies. The request items are the library's own schema; the envelopes
 * are checked here, the items by the producer (so HTTP and library give the same messages).
 * These schemas are also the source of openapi.json.
 */

/** The batch envelope as checked at run time: items are left to producer.enqueueMany. */
export function batchEnvelopeSchema(maxBatch: number) {
  const count = `must be an array of 1-${maxBatch} requests`;
  return z.strictObject(
    { requests: z.array(z.unknown(), { error: count }).min(1, { error: count }).max(maxBatch, { error: count }) },
    { error: (issue) => (issue.code === "unrecognized_keys" ? `unknown field(s): ${issue.keys.join(", ")}` : "must be an object") },
  );
}

/** The batch body as documented. */
export function batchRequestSchema(maxBatch: number) {
  return z.strictObject({
    requests: z.array(acceptRequestSchema).min(1).max(maxBatch).describe(`1-${maxBatch} requests (HTTP_MAX_BATCH); one invalid item refuses the whole batch.`),
  });
}

export const enqueueResultSchema = z
  .looseObject({
    jobId: z.string().describe("The request's id: use it with GET /v1/acceptances/{id}. Also requestId of its outcome event."),
    duplicate: z.boolean().describe("True when this request already existed: nothing new was enqueued."),
    clientToken: z.string().describe("The ClientToken AWS sees for this request."),
    correlationId: z.string(),
    idempotencyKey: z.string().optional(),
    state: z.string().optional().describe("State of the request, for a re-submission of a known one."),
    outcome: outcomeEventSchema.optional().describe("The recorded outcome, when a re-submitted request is already complete."),
  })
  .describe("What the library's producer.enqueue returns, passed through unchanged; new fields may appear.");

export const batchResultSchema = z.object({ results: z.array(enqueueResultSchema).describe("One result per request, in request order.") });

export const acceptanceStatusSchema = z.object({
  id: z.string(),
  state: z.enum(ACCEPTANCE_STATES),
  attempts: z.number().int().nonnegative().describe("API calls made: the outcome's count once there is one, before that the job's attempts made."),
  outcome: outcomeEventSchema.nullable().describe("The outcome event, once published."),
});

export const errorBodySchema = z.looseObject({
  error: z.enum(ERROR_CODES),
  message: z.string(),
  issues: z
    .array(z.object({ index: z.number().int().nonnegative().optional().describe("Batch only: position in `requests`."), field: z.string(), rule: z.string() }))
    .optional()
    .describe("INVALID_REQUEST: each broken rule, by field (and item index for a batch)."),
  idempotencyKey: z.string().optional().describe("IDEMPOTENCY_CONFLICT: the key that was reused."),
  differences: z.array(z.string()).optional().describe("IDEMPOTENCY_CONFLICT: fields that differ from the first submission."),
  existingJobId: z.string().optional().describe("IDEMPOTENCY_CONFLICT: the job of the first submission."),
  index: z.number().int().nonnegative().optional().describe("IDEMPOTENCY_CONFLICT in a batch: position of the conflicting request."),
});

export const healthSchema = z.object({ status: z.literal("ok") });

export const readinessSchema = z.object({
  status: z.enum(["ready", "not-ready"]),
  checks: z.object({
    redis: z.enum(["ok", "down"]),
    queue: z.enum(["running", "paused", "unknown"]),
    memory: z.enum(["ok", "full", "unknown"]).describe("`full`: Redis refuses writes (maxmemory reached); enqueues get 503 REDIS_FULL."),
  }),
});
