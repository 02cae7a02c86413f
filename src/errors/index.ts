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
  constructor(
    readonly issues: FieldIssue[],
    readonly index?: number,
  ) {
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
  /**
   * @param timedOutAfterMs set when Redis was reachable but did not answer in time: what was sent
   * may have been carried out (an enqueue written), so the answer is unknown, not "nothing done".
   */
  constructor(
    readonly url: string,
    options?: ErrorOptions,
    readonly timedOutAfterMs?: number,
  ) {
    super(
      timedOutAfterMs === undefined
        ? `cannot reach Redis at ${url}`
        : `Redis at ${url} did not answer within ${timedOutAfterMs} ms`,
      options,
    );
  }
}

/** Some requests of a batch broke the schema; nothing of the batch was enqueued. */
export class BatchValidationError extends PcInvitationsError {
  override readonly name = "BatchValidationError";
  readonly code = "INVALID_BATCH";
  constructor(readonly invalid: Array<{ index: number; issues: FieldIssue[] }>) {
    super(
      `${invalid.length} invalid request(s), nothing enqueued: ` +
        invalid
          .slice(0, 5)
          .map((i) => `#${i.index} ${formatFieldIssues(i.issues)}`)
          .join(" | ") +
        (invalid.length > 5 ? ` | … ${invalid.length - 5} more` : ""),
    );
  }
}

/**
 * The idempotency key was already used with a different payload. Nothing was enqueued.
 * `differences` names each field whose value differs from the first submission.
 * In a batch, `index` is the conflicting request's position. When the key's first use is an
 * earlier request of the same batch, `firstIndex` is that request's position, and
 * `existingJobId` the job id it was given: written only when the batch is sent again without the
 * conflicting request (enqueueEach does, and then reports the id written).
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
    /** Position of the key's first use, when that is an earlier request of the same batch. */
    readonly firstIndex?: number,
  ) {
    super(
      firstIndex === undefined
        ? `idempotency key "${idempotencyKey}" was already used with a different ` +
            `payload (differs in: ${differences.join(", ")}); nothing enqueued`
        : `idempotency key "${idempotencyKey}" is used by request #${firstIndex} of this batch ` +
            `with a different payload (differs in: ${differences.join(", ")}); nothing enqueued`,
    );
  }
}

/**
 * Redis refuses writes because it is full (used memory over `maxmemory`, policy `noeviction`, as
 * BullMQ requires). The refused command wrote nothing: a refused MULTI/EXEC is discarded whole,
 * and a refused script stops at its first write. Retrying once Redis has room is safe. `cause` is
 * the Redis reply (its command arguments are never logged). `url` is REDIS_URL without
 * credentials, when known.
 */
export class RedisFullError extends PcInvitationsError {
  override readonly name = "RedisFullError";
  readonly code = "REDIS_FULL";
  constructor(
    readonly url?: string,
    options?: ErrorOptions,
  ) {
    super(
      `Redis${url ? ` at ${url}` : ""} is full (used memory reached maxmemory) and refuses writes; nothing was written`,
      options && "cause" in options ? { cause: withoutCommandArguments(options.cause) } : options,
    );
  }
}

/**
 * Redis refused our credentials: a wrong password (WRONGPASS), or none where one is needed
 * (NOAUTH). Never retried: waiting does not fix a password. The message names the user, never
 * the password; `url` is REDIS_URL without credentials. `cause` is Redis's reply without the
 * command it answered: ioredis hangs the refused command on its ReplyError (`command.args` of
 * `HELLO 3 AUTH <user> <password>` or `AUTH <password>`), which `util.inspect`, `console.error`
 * or a logger that prints causes would show; a copy without it is kept instead.
 */
export class RedisAuthError extends PcInvitationsError {
  override readonly name = "RedisAuthError";
  readonly code = "REDIS_AUTH";
  constructor(
    readonly url: string,
    readonly username: string,
    readonly reason: "wrong-password" | "password-required",
    options?: ErrorOptions,
  ) {
    super(
      reason === "wrong-password"
        ? `Redis at ${url} refused the password for user "${username}"`
        : `Redis at ${url} requires a password and none was given ` +
            `(REDIS_URL=redis://${username === "default" ? "" : username}:PASSWORD@host:port)`,
      options && "cause" in options ? { cause: withoutCommandArguments(options.cause) } : options,
    );
  }
}

/** Where ioredis (and Node's HTTP parser) put what was sent: never kept on an error of ours. */
const SENT_KEYS = new Set(["command", "args", "previousErrors", "rawPacket"]);

/**
 * A copy of an error and its cause chain (at most 5 deep) with the same name, message, stack and
 * fields, less those that carry what was sent (SENT_KEYS). Anything but an Error is kept as its
 * name: a stray value could be the command itself.
 */
function withoutCommandArguments(err: unknown, depth = 0): unknown {
  if (!(err instanceof Error)) return err === undefined ? undefined : `[${typeof err}]`;
  const copy = new Error(err.message);
  copy.name = err.name;
  if (err.stack !== undefined) copy.stack = err.stack;
  for (const [key, value] of Object.entries(err))
    if (!SENT_KEYS.has(key)) (copy as unknown as Record<string, unknown>)[key] = value;
  if (err.cause !== undefined && depth < 5) copy.cause = withoutCommandArguments(err.cause, depth + 1);
  return copy;
}

/**
 * The key's record names a job that still exists but is not a record this version can read (a
 * field missing, an unknown state: a partial restore, a record of another version). It belongs to
 * a live request, so nothing is written over it: nothing of the batch is enqueued. Repair or
 * delete the record (`fields` says what it holds), or wait for its job to end.
 */
export class RecordUnreadableError extends PcInvitationsError {
  override readonly name = "RecordUnreadableError";
  readonly code = "RECORD_UNREADABLE";
  constructor(
    readonly idempotencyKey: string,
    readonly jobId: string,
    readonly fields: string[],
    /** Position in the batch, for enqueueMany. */
    readonly index?: number,
  ) {
    super(
      `the request record of idempotency key "${idempotencyKey}" names job ${jobId}, which exists, ` +
        `but is not a record this version can read (fields: ${fields.join(", ")}); nothing enqueued`,
    );
  }
}

/** No request with this id: neither its job nor its outcome exists (never enqueued, or past retention). */
export class RequestNotFoundError extends PcInvitationsError {
  override readonly name = "RequestNotFoundError";
  readonly code = "NOT_FOUND";
  constructor(readonly requestId: string) {
    super(`no request with id ${JSON.stringify(requestId)} (never enqueued, or past retention)`);
  }
}

/**
 * A cancel's arguments broke a rule (checked before Redis is asked anything): `issues` names the
 * field (`requestId`, `reason`) and the rule, in the words the HTTP API answers with.
 */
export class CancelValidationError extends PcInvitationsError {
  override readonly name = "CancelValidationError";
  readonly code = "INVALID_CANCEL";
  constructor(readonly issues: FieldIssue[]) {
    super(`invalid cancel: ${formatFieldIssues(issues)}`);
  }
}

/**
 * A listing's query broke a rule (checked before Redis is asked anything): `issues` names the
 * field (`state`, `identifier`, `catalog`, `cursor`, `limit`) and the rule, in the words the HTTP
 * API answers with.
 */
export class ListQueryError extends PcInvitationsError {
  override readonly name = "ListQueryError";
  readonly code = "INVALID_QUERY";
  constructor(readonly issues: FieldIssue[]) {
    super(`invalid listing: ${formatFieldIssues(issues)}`);
  }
}

/**
 * The request has started or finished, so it can no longer be canceled: `state` is its job's
 * state (active, completed, failed…) or, once the job is gone, its outcome's type.
 */
export class RequestNotCancelableError extends PcInvitationsError {
  override readonly name = "RequestNotCancelableError";
  readonly code = "NOT_CANCELABLE";
  constructor(
    readonly requestId: string,
    readonly state: string,
    /**
     * The outcome the request ended with instead, when the cancel itself found it: the invitation,
     * read because an earlier attempt may have reached AWS, was no longer pending.
     */
    readonly outcome?: { type: string; [field: string]: unknown },
    why?: string,
  ) {
    super(
      why ??
        `request ${requestId} is ${state}: only a request that has ` +
          `not started (waiting, delayed, prioritized) can be canceled`,
    );
  }
}

/**
 * A cancel that could not decide: the request had been sent to AWS before (its answer may have
 * been lost) and reading its invitation failed, so whether AWS applied it is unknown. Nothing was
 * canceled and nothing published; trying again is safe.
 */
export class CancelUnsettledError extends PcInvitationsError {
  override readonly name = "CancelUnsettledError";
  readonly code = "CANCEL_UNSETTLED";
  readonly retryable = true;
  constructor(
    readonly requestId: string,
    readonly readError: string,
  ) {
    super(
      `request ${requestId} was sent to AWS before, and its invitation could not be read (${readError}): ` +
        "nothing was canceled; try again",
    );
  }
}

/** A discovery policy broke its schema; `issues` names the rule and field (`rules.2.when.connectionTypes.0`). */
export class PolicyValidationError extends PcInvitationsError {
  override readonly name = "PolicyValidationError";
  readonly code = "INVALID_POLICY";
  constructor(
    readonly issues: FieldIssue[],
    /** Where the policy came from (a file name), when it came from one. */
    readonly source?: string,
  ) {
    super(`invalid policy${source ? ` ${source}` : ""}: ${formatFieldIssues(issues)}`);
  }
}

/**
 * A Partner Central call of a discovery or redrive failed for good (after its own retries of
 * throttles and transient errors): `operation`, and AWS's error `name`, `reason` and status.
 */
export class PartnerCentralCallError extends PcInvitationsError {
  override readonly name = "PartnerCentralCallError";
  readonly code = "AWS_ERROR";
  constructor(
    readonly operation: string,
    readonly errorName: string,
    readonly reason: string | null,
    readonly httpStatus: number | null,
    detail: string,
    options?: ErrorOptions,
  ) {
    super(`${operation} failed: ${errorName}${reason ? ` (${reason})` : ""}: ${detail}`, options);
  }
}

/**
 * An outcome event a consumer gave up on: its consumer was lost (crashed, killed, blocked past
 * the lock) more than `maxStalledCount` times, its handler failed `maxAttempts` times, or it is
 * not an outcome event. It stays in the outcomes queue's failed set ("parked"), where
 * `pc-invitations outcomes --parked` lists it and `pc-invitations outcomes replay` delivers it again.
 */
export class OutcomeParkedError extends PcInvitationsError {
  override readonly name = "OutcomeParkedError";
  readonly code = "OUTCOME_PARKED";
  constructor(
    /** The outcome job's id: the request id. */
    readonly requestId: string,
    /** Why BullMQ failed the job, e.g. "job stalled more than allowable limit". */
    readonly reason: string,
    options?: ErrorOptions,
  ) {
    super(
      `outcome ${requestId} parked (${reason}); replay it with: pc-invitations outcomes replay --id ${requestId}`,
      options,
    );
  }
}

/** A token or a person of that name exists already (access model): remove it first, or pick another name. */
export class AccessNameTakenError extends PcInvitationsError {
  override readonly name = "AccessNameTakenError";
  readonly code = "ACCESS_NAME_TAKEN";
  constructor(
    readonly kind: "token" | "user",
    readonly accessName: string,
  ) {
    super(
      `a ${kind} named ${JSON.stringify(accessName)} exists already; remove it first ` +
        `(pc-invitations ${kind}s remove ${accessName}) or choose another name`,
    );
  }
}

/**
 * A decision on an invitation that is no longer pending (accepted or rejected elsewhere, canceled,
 * expired): nothing was enqueued. `status` is its status (AWS's: ACCEPTED, REJECTED, CANCELED,
 * EXPIRED), `held` how the held record ended, when there is one.
 */
export class InvitationNotPendingError extends PcInvitationsError {
  override readonly name = "InvitationNotPendingError";
  readonly code = "INVITATION_NOT_PENDING";
  constructor(
    readonly catalog: string,
    readonly identifier: string,
    readonly status: string,
    readonly held?: string,
  ) {
    super(
      `invitation ${catalog}.${identifier} is ${status}, no longer pending` +
        `${held ? ` (held, then ${held})` : ""}: there is nothing left to decide`,
    );
  }
}

/**
 * A decision that differs from the one already made on this invitation (another person decided
 * otherwise first, or a policy did): nothing was enqueued. `existing` is the decision that stands.
 */
export class DecisionConflictError extends PcInvitationsError {
  override readonly name = "DecisionConflictError";
  readonly code = "DECISION_CONFLICT";
  constructor(
    readonly catalog: string,
    readonly identifier: string,
    readonly existing: { requestId: string; action: string | null; decidedBy: string | null },
    readonly differences: string[],
  ) {
    super(
      `invitation ${catalog}.${identifier} was decided otherwise already: ` +
        `${existing.action ?? "a request"} by ${existing.decidedBy ?? "a discovery policy or a caller"} ` +
        `(request ${existing.requestId}; differs in ${differences.join(", ")}); nothing enqueued`,
    );
  }
}

/** No invitation with this catalog and identifier (AWS answered ResourceNotFoundException). */
export class InvitationNotFoundError extends PcInvitationsError {
  override readonly name = "InvitationNotFoundError";
  readonly code = "NOT_FOUND";
  constructor(
    readonly catalog: string,
    readonly identifier: string,
  ) {
    super(`no invitation ${catalog}.${identifier} (AWS: ResourceNotFoundException)`);
  }
}

/**
 * A webhook endpoint's settings broke a rule (`webhooks add`, `POST /v1/webhooks`): `issues` names
 * the field (`url`, `events`, `catalog`, `secret`, `format`, `rateLimit`) and the rule.
 */
export class WebhookValidationError extends PcInvitationsError {
  override readonly name = "WebhookValidationError";
  readonly code = "INVALID_WEBHOOK";
  constructor(readonly issues: FieldIssue[]) {
    super(`invalid webhook: ${formatFieldIssues(issues)}`);
  }
}

/** No webhook endpoint has this id. */
export class WebhookNotFoundError extends PcInvitationsError {
  override readonly name = "WebhookNotFoundError";
  readonly code = "WEBHOOK_NOT_FOUND";
  constructor(readonly id: string) {
    super(`no webhook endpoint ${id}`);
  }
}
