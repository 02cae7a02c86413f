import type { FieldIssue } from "../schemas/issues.js";
import { formatFieldIssues } from "../schemas/issues.js";

/** Base of every error pc-invitations throws on purpose. `code` is stable; match on it. */
export abstract class PcInvitationsError extends Error {
  abstract readonly code: string;
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
  }
}

/** A request or job broke the schema. `issues` names each field and the rule it broke. */
export class RequestValidationError extends PcInvitationsError {
  override readonly name = "RequestValidationError";
  readonly code = "INVALID_REQUEST";
  constructor(readonly issues: FieldIssue[], readonly index?: number) {
    super(`${index === undefined ? "invalid request" : `invalid request #${index}`}: ${formatFieldIssues(issues)}`);
  }
}

/** An environment variable is missing or malformed; `issues` name the variables. */
export class ConfigError extends PcInvitationsError {
  override readonly name = "ConfigError";
  readonly code = "INVALID_CONFIG";
  constructor(readonly issues: FieldIssue[]) {
    super(`invalid configuration: ${formatFieldIssues(issues)}`);
  }
}

/** Redis could not be reached; `url` is the REDIS_URL without credentials. */
export class RedisUnavailableError extends PcInvitationsError {
  override readonly name = "RedisUnavailableError";
  readonly code = "REDIS_UNAVAILABLE";
  constructor(readonly url: string, options?: ErrorOptions) {
    super(`cannot reach Redis at ${url}`, options);
  }
}

/** Some requests of a batch broke the schema; nothing of the batch was enqueued. */
export class BatchValidationError extends PcInvitationsError {
  override readonly name = "BatchValidationError";
  readonly code = "INVALID_BATCH";
  constructor(readonly invalid: Array<{ index: number; issues: FieldIssue[] }>) {
    super(
      `${invalid.length} invalid request(s), nothing enqueued: ` +
        invalid.slice(0, 5).map((i) => `#${i.index} ${formatFieldIssues(i.issues)}`).join(" | ") +
        (invalid.length > 5 ? ` | … ${invalid.length - 5} more` : ""),
    );
  }
}

/**
 * The idempotency key was already used with a different payload. Nothing was enqueued.
 * `differences` names each field whose value differs from the first submission.
 */
export class IdempotencyConflictError extends PcInvitationsError {
  override readonly name = "IdempotencyConflictError";
  readonly code = "IDEMPOTENCY_CONFLICT";
  constructor(
    readonly idempotencyKey: string,
    readonly differences: string[],
    readonly existingJobId: string,
    /** Position in the batch, for enqueueMany. */
    readonly index?: number,
  ) {
    super(`idempotency key "${idempotencyKey}" was already used with a different payload (differs in: ${differences.join(", ")}); nothing enqueued`);
  }
}
