import { z } from "zod";
import { clientTokenSchema } from "../schemas/request-fields.js";
import { acceptRequestSchema } from "./request.js";

export const JOB_DATA_VERSION = 1;

/**
 * What the producer stores in each BullMQ job. The ClientToken is fixed here, at enqueue time,
 * so every retry and every redelivery of the job sends the same token to AWS.
 */
export const acceptJobDataSchema = z.strictObject({
  v: z.literal(JOB_DATA_VERSION),
  request: acceptRequestSchema.required({ clientToken: true, correlationId: true }),
  clientToken: clientTokenSchema,
  /** The request's idempotency key (caller's, or `<catalog>.<identifier>`); names its record. */
  idempotencyKey: z.string().min(1),
  /**
   * Written by pc-invitations 0.1 (W3C trace context carried by hand); ignored since the trace
   * context travels in BullMQ's own job telemetry. Still accepted, so jobs queued by 0.1 run.
   */
  trace: z.record(z.string(), z.string()).optional(),
  /** ISO-8601 time the producer accepted the request. */
  enqueuedAt: z.iso.datetime(),
  /**
   * Set on a redrive (never by callers: it is not part of the request schema): the request id of
   * the failed request this one runs again. The run reads the invitation before any call.
   */
  redriveOf: z.string().min(1).optional(),
  /**
   * Set on a decision on a held invitation (never by callers: it is not part of the request schema,
   * nor of its fingerprint, so two people who decide alike make one request): who decided, and why
   * it had been held. Carried to the outcome as `decidedBy` and `heldBy`.
   */
  decision: z
    .strictObject({
      decidedBy: z.string().min(1),
      heldBy: z.strictObject({ rule: z.number().int().nonnegative().nullable(), policyHash: z.string() }).optional(),
    })
    .optional(),
  /** Times this job was put back because AWS throttled it (bounded by MAX_THROTTLE_REQUEUES). */
  throttleRequeues: z.number().int().nonnegative().default(0),
});

export type AcceptJobData = z.infer<typeof acceptJobDataSchema>;

/**
 * The data of a job BullMQ could not read (its `data` or `opts` in Redis were not JSON), as the
 * sweeper rewrites it: `{ [UNPARSEABLE_JOB_MARKER]: { data, opts } }` with a part of what was
 * there. It fails the job schema, so the request ends with an InvalidJob outcome.
 */
export const UNPARSEABLE_JOB_MARKER = "pciUnparseableJob";

/** What an unparseable job held, as the repair kept it; undefined for any other data. */
export function unparseableJobExcerpt(data: unknown): { data: string | null; opts: string | null } | undefined {
  const marked = (data as Record<string, unknown> | null)?.[UNPARSEABLE_JOB_MARKER];
  return marked !== null && typeof marked === "object"
    ? (marked as { data: string | null; opts: string | null })
    : undefined;
}
