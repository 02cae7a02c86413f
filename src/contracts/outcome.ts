import { z } from "zod";
import { OPERATIONS, type Operation } from "../operations/index.js";
import { REQUEST_ACTIONS } from "./request.js";

/**
 * Version of the outcome event contract. Additive changes (a new optional or always-present
 * field, a new `type`, a new error name) keep it; consumers ignore fields and types they do not
 * know. Only a change that breaks a reader of version 1 (a field removed, renamed, or given
 * another meaning) would make it 2.
 */
export const OUTCOME_SCHEMA_VERSION = 1;

type UnionToIntersection<U> = (U extends unknown ? (u: U) => void : never) extends (i: infer I) => void ? I : never;

/** Exceptions AcceptConnectionInvitation can throw (npm 3.1086.0 `@throws`). */
export const AWS_ERROR_NAMES = [
  "ResourceNotFoundException",
  "AccessDeniedException",
  "ConflictException",
  "ValidationException",
  "ServiceQuotaExceededException",
  "ThrottlingException",
  "InternalServerException",
] as const;

/** Our own failure codes, for failures that are not one AWS answer. */
export const OWN_ERROR_NAMES = [
  /** The job in Redis did not match the job schema; the API was not called. */
  "InvalidJob",
  /** Transient failures on every allowed attempt; `reason` names the last one. */
  "RetriesExhausted",
  /**
   * A redrive read the invitation before calling the API and found it in a status its action
   * cannot change (`invitationStatus` names it); the API was not called.
   */
  "InvitationNotPending",
  /** No HTTP answer: connection refused/reset, DNS, timeout. */
  "NetworkError",
] as const;

export const errorNameSchema = z
  .union([z.enum(AWS_ERROR_NAMES), z.enum(OWN_ERROR_NAMES), z.string().min(1)])
  .describe(
    "AWS exception name, one of our codes (InvalidJob, RetriesExhausted, " +
      "InvitationNotPending, NetworkError), or an unmodelled AWS error name.",
  );

export const outcomeErrorSchema = z.looseObject({
  name: errorNameSchema,
  /** AWS `Reason` (e.g. INCOMPATIBLE_CONNECTION_INVITATION_STATE), or for RetriesExhausted the last error's name. */
  reason: z.string().nullable(),
  message: z.string(),
  httpStatus: z.number().int().nullable(),
  awsRequestId: z.string().nullable(),
  /** Whether this kind of error is transient (would succeed on a later try). */
  retryable: z.boolean(),
  /** The invitation's status when it was found in one the request's action cannot change (e.g. REJECTED for an
   * accept). */
  invitationStatus: z.string().optional(),
  /** Per-field problems: from ValidationException.ErrorDetails or from our job schema. */
  details: z.array(z.record(z.string(), z.unknown())).optional(),
});

const envelope = {
  schemaVersion: z.literal(OUTCOME_SCHEMA_VERSION),
  /** Deterministic from requestId: a redelivered job yields the same eventId. */
  eventId: z.string(),
  /** The BullMQ job id of the request. Also the outcome's job id on the outcomes queue. */
  requestId: z.string(),
  /**
   * What the request did: "accept" or "reject". Null only for an InvalidJob whose action could
   * not be read; events published before there was a choice have none (read as "accept").
   */
  action: z.enum(REQUEST_ACTIONS).nullable().default("accept"),
  /** A redrive: the request id of the failed request this one runs again. */
  redriveOf: z.string().optional(),
  /** Each operation's own envelope fields (a reject's `rejectReason`): src/operations. */
  ...(Object.assign({}, ...OPERATIONS.map((o) => o.envelopeFields)) as UnionToIntersection<
    Operation["envelopeFields"]
  >),
  correlationId: z.string().nullable(),
  metadata: z.record(z.string(), z.json()).nullable(),
  catalog: z.string().nullable(),
  identifier: z.string().nullable(),
  clientToken: z.string().nullable(),
  /** API calls made for this request, over every retry. */
  attempts: z.number().int().nonnegative(),
  enqueuedAt: z.iso.datetime().nullable(),
  completedAt: z.iso.datetime(),
  /** W3C trace context (traceparent, tracestate) of the job's span, when tracing is on. */
  trace: z.record(z.string(), z.string()).optional(),
  /**
   * A decision on a held invitation (`pc-invitations decide`, POST /v1/held/…/decision): who made
   * it (a person's name, a token's identity).
   */
  decidedBy: z.string().optional(),
  /** A decision on a held invitation: why it had been held (the rule, null for the default, and the policy). */
  heldBy: z.object({ rule: z.number().int().nonnegative().nullable(), policyHash: z.string() }).optional(),
};

/** The fields every outcome event has, whatever its type. */
export type OutcomeEnvelope = z.output<z.ZodObject<typeof envelope>>;

/** The zod shape of an operation's success outcome: the envelope, its `type`, its fields. */
type OutcomeShape<O extends Operation> = {
  [K in keyof typeof envelope | "type" | keyof O["outcomeFields"]]: K extends "type"
    ? z.ZodLiteral<O["done"]>
    : K extends keyof O["outcomeFields"]
      ? Extract<O["outcomeFields"][K], z.core.$ZodType>
      : K extends keyof typeof envelope
        ? (typeof envelope)[K]
        : never;
};

/** The outcome of an operation's success (src/operations): the envelope, its `type`, its fields. */
function operationOutcomeSchema<O extends Operation>(op: O): z.ZodObject<OutcomeShape<O>, z.core.$loose> {
  return z.looseObject({ ...envelope, type: z.literal(op.done), ...op.outcomeFields }) as never;
}
type OutcomeSchemas<T> = {
  readonly [K in keyof T]: T[K] extends Operation ? ReturnType<typeof operationOutcomeSchema<T[K]>> : never;
};
const operationOutcomeSchemas = OPERATIONS.map(operationOutcomeSchema) as unknown as OutcomeSchemas<typeof OPERATIONS>;
export const [acceptedOutcomeSchema, rejectedOutcomeSchema] = operationOutcomeSchemas;

export const failedOutcomeSchema = z.looseObject({
  ...envelope,
  type: z.literal("failed"),
  error: outcomeErrorSchema,
});

export const canceledOutcomeSchema = z.looseObject({
  ...envelope,
  type: z.literal("canceled"),
  /** Why it was canceled, as the canceller said (`cancel --reason`), or null. */
  reason: z.string().nullable(),
});

/**
 * One outcome per request. Consumers must ignore fields and `type`s they do not know (new ones
 * come without a new schemaVersion; see OUTCOME_SCHEMA_VERSION): every shape is a loose object,
 * so its JSON Schema allows fields added later and parsing keeps them.
 */
export const outcomeEventSchema = z.discriminatedUnion("type", [
  ...operationOutcomeSchemas,
  failedOutcomeSchema,
  canceledOutcomeSchema,
]);

/** The types of outcome events: one per way a request can end (each operation's, failed, canceled). */
export const OUTCOME_TYPES = [...OPERATIONS.map((o) => o.done), "failed", "canceled"] as unknown as readonly [
  ...Dones<typeof OPERATIONS>,
  "failed",
  "canceled",
];
type Dones<T> = { [K in keyof T]: T[K] extends { done: infer D } ? D : never };

export type OutcomeEvent = z.infer<typeof outcomeEventSchema>;
export type OutcomeType = OutcomeEvent["type"];
export type AcceptedOutcome = Extract<OutcomeEvent, { type: "accepted" }>;
export type RejectedOutcome = Extract<OutcomeEvent, { type: "rejected" }>;
export type FailedOutcome = z.infer<typeof failedOutcomeSchema>;
export type CanceledOutcome = z.infer<typeof canceledOutcomeSchema>;

export type OutcomeError = z.infer<typeof outcomeErrorSchema>;

/**
 * `schema.safeParse(data)` for an event read back from Redis, which never throws: zod walks nested
 * values by recursion, so a value nested thousands deep (metadata written by hand) overflows the
 * stack. Such a value is no event either; `reason` says why it could not be read.
 */
export function parseStoredEvent<T>(
  schema: z.ZodType<T>,
  data: unknown,
): { success: true; data: T } | { success: false; reason?: string } {
  try {
    const parsed = schema.safeParse(data);
    return parsed.success ? { success: true, data: parsed.data } : { success: false };
  } catch (err) {
    return { success: false, reason: `could not be read: ${err instanceof Error ? err.message : String(err)}` };
  }
}
