import { z } from "zod";
import { HELD_STATES } from "../store/held-store.js";
import { DECISION_ACTIONS } from "../schemas/decision.js";
import { acceptRequestSchema } from "../contracts/request.js";
import { cancelReasonSchema } from "../schemas/cancel.js";
import { outcomeEventSchema } from "../contracts/outcome.js";
import { durationSchema } from "../schemas/duration.js";
import { POLICY_DECISIONS } from "../schemas/policy.js";
import { ACCEPTANCE_STATES } from "./acceptance-status.js";
import { ERROR_CODES } from "./problem-types.js";

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
    {
      error: (issue) =>
        issue.code === "unrecognized_keys" ? `unknown field(s): ${issue.keys.join(", ")}` : "must be an object",
    },
  );
}

/** The batch body as documented. */
export function batchRequestSchema(maxBatch: number) {
  return z.strictObject({
    requests: z
      .array(acceptRequestSchema)
      .min(1)
      .max(maxBatch)
      .describe(`1-${maxBatch} requests (HTTP_MAX_BATCH); one invalid item refuses the whole batch.`),
  });
}

export const enqueueResultSchema = z
  .looseObject({
    jobId: z
      .string()
      .describe("The request's id: use it with GET /v1/acceptances/{id}. Also requestId of its outcome event."),
    duplicate: z.boolean().describe("True when this request already existed: nothing new was enqueued."),
    clientToken: z.string().describe("The ClientToken AWS sees for this request."),
    correlationId: z.string(),
    idempotencyKey: z.string().optional(),
    state: z.string().optional().describe("State of the request, for a re-submission of a known one."),
    outcome: outcomeEventSchema
      .optional()
      .describe("The recorded outcome, when a re-submitted request is already complete."),
  })
  .describe("What the library's producer.enqueue returns, passed through unchanged; new fields may appear.");

export const batchResultSchema = z.object({
  results: z.array(enqueueResultSchema).describe("One result per request, in request order."),
});

export const acceptanceStatusSchema = z.object({
  id: z.string(),
  state: z.enum(ACCEPTANCE_STATES),
  attempts: z
    .number()
    .int()
    .nonnegative()
    .describe("API calls made: the outcome's count once there is one, before that the job's attempts made."),
  outcome: outcomeEventSchema.nullable().describe("The outcome event, once published."),
});

/**
 * Every error answer (RFC 9457 problem details, `application/problem+json`): the standard
 * members, then `code` and the fields of each kind. http-errors.ts builds them.
 */
export const problemSchema = z.looseObject({
  type: z
    .string()
    .describe(
      "The problem type: `/problems/<kind>` (a URI reference, the same on every server; the server answers it " +
        "with the kind's documentation), or `about:blank` for an error of the dashboard's own API.",
    ),
  title: z.string().describe("The kind's title: the same for every occurrence of the kind."),
  status: z.number().int().min(400).max(599).describe("The HTTP status of the answer."),
  detail: z.string().describe("What went wrong this time, for a person to read."),
  instance: z
    .string()
    .optional()
    .describe("The request's path (absent when Node refused the request before its path was read)."),
  code: z
    .enum(ERROR_CODES)
    .optional()
    .describe("The stable code to match on (absent only on `about:blank` problems of statuses with no kind)."),
  error: z
    .enum(ERROR_CODES)
    .optional()
    .meta({ deprecated: true })
    .describe("Deprecated: the same as `code`, for clients of the 1.0 error format; removed in 2.0."),
  message: z
    .string()
    .optional()
    .meta({ deprecated: true })
    .describe("Deprecated: the same as `detail`, for clients of the 1.0 error format; removed in 2.0."),
  issues: z
    .array(
      z.object({
        index: z.number().int().nonnegative().optional().describe("Batch only: position in `requests`."),
        field: z.string(),
        rule: z.string(),
      }),
    )
    .optional()
    .describe("INVALID_REQUEST: each broken rule, by field (and item index for a batch)."),
  idempotencyKey: z.string().optional().describe("IDEMPOTENCY_CONFLICT: the key that was reused."),
  differences: z
    .array(z.string())
    .optional()
    .describe("IDEMPOTENCY_CONFLICT: fields that differ from the first submission."),
  existingJobId: z
    .string()
    .optional()
    .describe(
      "IDEMPOTENCY_CONFLICT: the job of the first submission (absent when " +
        "that is an earlier request of the same batch: see firstIndex).",
    ),
  index: z
    .number()
    .int()
    .nonnegative()
    .optional()
    .describe("IDEMPOTENCY_CONFLICT in a batch: position of the conflicting request."),
  firstIndex: z
    .number()
    .int()
    .nonnegative()
    .optional()
    .describe(
      "IDEMPOTENCY_CONFLICT in a batch: position of the earlier request of the same " +
        "batch that uses the key with another payload (nothing of the batch was written).",
    ),
  requestId: z.string().optional().describe("NOT_CANCELABLE: the request."),
  state: z.string().optional().describe("NOT_CANCELABLE: its state (active, completed, failed…)."),
  operation: z.string().optional().describe("AWS_ERROR: the Partner Central operation that failed."),
  awsError: z.string().optional().describe("AWS_ERROR: AWS's error name."),
  reason: z.string().nullable().optional().describe("AWS_ERROR: AWS's Reason."),
  awsHttpStatus: z.number().int().nullable().optional().describe("AWS_ERROR: the status AWS answered."),
});

export const healthSchema = z.object({ status: z.literal("ok") });

export const readinessSchema = z.object({
  status: z.enum(["ready", "not-ready"]),
  checks: z.object({
    redis: z.enum(["ok", "down"]),
    queue: z.enum(["running", "paused", "unknown"]),
    memory: z
      .enum(["ok", "full", "unknown"])
      .describe("`full`: Redis refuses writes (maxmemory reached); enqueues get 503 REDIS_FULL."),
  }),
});

/** POST /v1/acceptances/{id}/cancel: an optional body. */
export const cancelBodySchema = z.strictObject(
  {
    // The library's rule (cancelRequest checks it too, in the same words).
    reason: cancelReasonSchema.optional().describe("Why; carried as the canceled outcome's `reason`."),
  },
  {
    error: (issue) =>
      issue.code === "unrecognized_keys" ? `unknown field(s): ${issue.keys.join(", ")}` : "must be an object",
  },
);

/** POST /v1/redrives. */
export const redriveBodySchema = z.strictObject(
  {
    errors: z
      .array(
        z
          .string({ error: "must be a string" })
          .regex(/^[A-Za-z0-9_.:-]{1,128}$/, { error: "must be an error name such as AccessDeniedException" }),
        {
          error: "must be a list of error names",
        },
      )
      .max(50, { error: "must list at most 50 error names" })
      .optional()
      .describe("Only failures whose error.name is one of these (any, when absent)."),
    since: durationSchema
      .optional()
      .describe("Only failures that ended within this duration before now: 30s, 5m, 1h, 1d."),
    dryRun: z
      .boolean({ error: "must be true or false" })
      .optional()
      .describe("List what would be redriven, change nothing."),
  },
  {
    error: (issue) =>
      issue.code === "unrecognized_keys" ? `unknown field(s): ${issue.keys.join(", ")}` : "must be an object",
  },
);

const countsByAction = z.object({ accept: z.number().int().nonnegative(), reject: z.number().int().nonnegative() });

/** What POST /v1/discoveries answers (producer/discover.ts DiscoverySummary). */
export const discoverySummarySchema = z
  .looseObject({
    runId: z.string().describe("Also the requests' correlationId: discover-<runId>."),
    dryRun: z.boolean(),
    catalogs: z.array(z.string()),
    startedAt: z.iso.datetime(),
    finishedAt: z.iso.datetime(),
    found: z.number().int().nonnegative().describe("Pending invitations sent to us."),
    enqueued: countsByAction.describe("New requests per action (dry run: would be)."),
    duplicates: z.number().int().nonnegative().describe("Invitations whose request exists already: nothing new."),
    conflicts: z
      .number()
      .int()
      .nonnegative()
      .describe("Invitations requested before with another action or reason: not enqueued."),
    held: z.number().int().nonnegative(),
    calls: z
      .object({ list: z.number().int(), get: z.number().int() })
      .describe("ListConnectionInvitations pages and GetConnectionInvitation reads made."),
    invitations: z
      .array(
        z.looseObject({
          catalog: z.string(),
          identifier: z.string(),
          otherParticipantIdentifier: z.string().nullable(),
          connectionType: z.string().nullable(),
          inviterEmail: z.string().nullable().optional(),
          decision: z.enum(POLICY_DECISIONS),
          rule: z.number().int().nullable().describe("Index of the deciding rule; null: the policy's default."),
          result: z.enum(["held", "enqueued", "duplicate", "conflict"]),
          jobId: z.string().nullable().optional(),
          existingJobId: z.string().optional(),
          differences: z.array(z.string()).optional(),
        }),
      )
      .describe("The first DISCOVERY_MAX_LISTED invitations found (default 1000), in the order found."),
    invitationsOmitted: z
      .number()
      .int()
      .nonnegative()
      .describe(
        "Invitations counted above but not listed in `invitations` (past DISCOVERY_MAX_LISTED); 0: all listed.",
      ),
  })
  .describe("One discovery: counts, then each pending invitation (up to a bound) and what was done with it.");

/** What POST /v1/redrives answers (producer/redrive.ts RedriveSummary). */
export const redriveSummarySchema = z
  .looseObject({
    dryRun: z.boolean(),
    errorNames: z.array(z.string()),
    since: z.iso.datetime().nullable(),
    found: z.number().int().nonnegative().describe("Failed outcomes that matched."),
    redriven: z.number().int().nonnegative().describe("New redrives (dry run: would be)."),
    duplicates: z.number().int().nonnegative().describe("Failures redriven before: nothing new."),
    conflicts: z.number().int().nonnegative(),
    skipped: z.number().int().nonnegative().describe("Failures whose request cannot be rebuilt (InvalidJob)."),
    requests: z.array(
      z.looseObject({
        requestId: z.string().describe("The failed request."),
        catalog: z.string().nullable(),
        identifier: z.string().nullable(),
        action: z.string().nullable(),
        error: z.string(),
        failedAt: z.iso.datetime(),
        result: z.enum(["redriven", "duplicate", "conflict", "skipped"]),
        jobId: z.string().nullable().optional().describe("The redrive's request id (null: a dry run's new one)."),
        detail: z.string().optional(),
      }),
    ),
  })
  .describe("One redrive: counts, then each failed request and what became of it.");

/** GET /v1/acceptances: a page of requests, each as GET /v1/acceptances/{id} answers it. */
export const acceptanceListSchema = z.strictObject({
  items: z.array(acceptanceStatusSchema).describe("At most `limit` requests, in the listing's order."),
  next: z
    .string()
    .nullable()
    .describe("The cursor of the next page (pass it as `cursor` with the same filters); null: the listing is over."),
});

const count = z.number().int().nonnegative();
const rate = z.number().nonnegative();

/** GET /v1/status: store/status.ts StatusReport (a test parses the read model's report with it). */
export const statusReportSchema = z
  .strictObject({
    at: z.iso.datetime().describe("When it was read."),
    queuePaused: z.boolean().describe("The requests queue is paused for every worker: nothing is taken."),
    backlog: z
      .strictObject({ total: count, waiting: count, prioritized: count, delayed: count, active: count })
      .describe("Requests still to be run: total = waiting + prioritized + delayed + active."),
    oldestWaiting: z
      .strictObject({ id: z.string(), enqueuedAt: z.iso.datetime(), ageMs: count })
      .nullable()
      .describe("The next request a worker takes (the oldest waiting one), and its age; null when none waits."),
    finished: z.strictObject({
      completed: count.describe("Completed request jobs still kept (RETENTION_SECONDS)."),
      failed: count.describe("Failed request jobs still kept."),
      withoutOutcome: z
        .strictObject({ count, checked: count, ids: z.array(z.string()) })
        .describe(
          "Among the newest `checked` failed jobs, those without an outcome event (the sweeper finishes them).",
        ),
    }),
    rate: z.strictObject({
      admittedPerSecond: rate.describe("Calls admitted per second over the last minute, all limits."),
      limit: rate.describe("The limits' current adaptive rates, calls/s, summed."),
      ceiling: rate.describe("The limits' configured rates (the adaptive ceiling), calls/s, summed."),
      limits: z.array(
        z.strictObject({
          limitKey: z.string(),
          stored: z.boolean().describe("False: no call made through this limit yet; the figures are the defaults."),
          admittedPerSecond: rate,
          callsLastMinute: count,
          retriesLastMinute: count,
          rate,
          ceiling: rate,
          minRate: rate,
          burst: count,
          throttles: count,
          lastThrottleAt: z.iso.datetime().nullable(),
          blockedForMs: count.describe("Blocked this long by a Retry-After (0: not blocked)."),
          retryBudgetLeft: count,
        }),
      ),
    }),
    drain: z
      .strictObject({
        seconds: z.number().nonnegative().nullable().describe("backlog ÷ admittedPerSecond; null: nothing admitted."),
        atLimitSeconds: z.number().nonnegative().nullable().describe("backlog ÷ limit; null: no limit known."),
        how: z.string(),
      })
      .describe("Time to drain the backlog (a lower bound: each request needs at least one call)."),
    workers: z.strictObject({
      alive: count.describe("Worker processes whose beat is fresh (written every 5 s, kept 15 s)."),
      paused: count.describe("Of those, paused for a fault of their own."),
      list: z.array(
        z.strictObject({
          id: z.string(),
          host: z.string(),
          pid: z.number().int(),
          startedAt: z.iso.datetime(),
          concurrency: count,
          limitKeys: z.array(z.string()),
          fault: z
            .strictObject({ name: z.string(), message: z.string(), since: z.iso.datetime(), pauseMs: count })
            .nullable(),
          lastBeatAgoMs: count,
        }),
      ),
    }),
    faultPause: z
      .array(
        z.strictObject({
          workerId: z.string(),
          host: z.string(),
          pid: z.number().int(),
          error: z.strictObject({ name: z.string(), message: z.string() }),
          since: z.iso.datetime(),
          pauseMs: count,
        }),
      )
      .describe("Workers paused because AWS refuses their credentials, signature or clock."),
    outcomes: z.strictObject({
      waiting: count.describe("Outcome events not yet taken by a consumer."),
      active: count,
      parked: count.describe("Outcome events consumers gave up on (pc-invitations outcomes --parked)."),
    }),
  })
  .describe("One screen of the deployment's state: the same report as `pc-invitations status`.");

/** One held invitation (store/held-store.ts HeldInvitation). */
export const heldInvitationSchema = z
  .looseObject({
    catalog: z.string(),
    identifier: z.string(),
    otherParticipantIdentifier: z.string().nullable(),
    connectionType: z.string().nullable(),
    inviterEmail: z
      .string()
      .nullable()
      .describe("When a rule of the policy needed it (read with GetConnectionInvitation)."),
    expiresAt: z.string().nullable().describe("The invitation's ExpiresAt (ISO-8601)."),
    rule: z.number().int().nullable().describe("Index of the policy rule that held it; null: the policy's default."),
    policyHash: z
      .string()
      .describe("The policy that held it (first 16 hex digits of the SHA-256 of its canonical JSON)."),
    state: z.enum(HELD_STATES),
    firstSeenAt: z.string(),
    lastSeenAt: z.string(),
    closedAt: z.string().nullable(),
    decision: z
      .looseObject({
        action: z.enum(DECISION_ACTIONS),
        reason: z.string().optional(),
        decidedBy: z.string(),
        requestId: z.string(),
      })
      .nullable(),
  })
  .describe("A held invitation: it waits for a person (state held), or how it ended.");

/** GET /v1/held. */
export const heldListSchema = z.strictObject({
  items: z.array(heldInvitationSchema).describe("At most `limit` held invitations, soonest expiry first."),
  next: z
    .string()
    .nullable()
    .describe("The cursor of the next page (pass it as `cursor` with the same catalog); null: the listing is over."),
});

/** What POST /v1/held/{catalog}/{identifier}/decision answers (app/held.ts DecisionResult). */
export const decisionResultSchema = z
  .looseObject({
    catalog: z.string(),
    identifier: z.string(),
    action: z.enum(DECISION_ACTIONS),
    reason: z.string().optional(),
    decidedBy: z
      .string()
      .nullable()
      .describe("Who made the decision that stands: this caller, or (duplicate) the first one; null: a policy."),
    heldBy: z
      .object({ rule: z.number().int().nullable(), policyHash: z.string() })
      .nullable()
      .describe("Why it had been held; null when it never was (it was read first, found pending)."),
    request: enqueueResultSchema.describe("The request: new, or the first decision's (`duplicate: true`)."),
  })
  .describe("The decision enqueued; its outcome event will carry decidedBy and heldBy.");
