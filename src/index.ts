/**
 * Public API of pc-invitations: every name a user may import, listed here on purpose (no
 * re-export of whole modules), so what is public is a decision, not an accident of layout.
 */

// Contracts: what callers send, what consumers receive (zod schemas and their types).
export {
  CATALOG_PATTERN,
  INVITATION_ID_PATTERN,
  CLIENT_TOKEN_PATTERN,
  METADATA_MAX_BYTES,
  IDEMPOTENCY_KEY_MAX_LENGTH,
  CORRELATION_ID_MAX_LENGTH,
  catalogSchema,
  invitationIdSchema,
  clientTokenSchema,
  metadataSchema,
  acceptRequestSchema,
  type AcceptRequest,
  type AcceptRequestInput,
} from "./schemas/request.js";
export { JOB_DATA_VERSION, acceptJobDataSchema, type AcceptJobData } from "./schemas/job.js";
export { participantSchema, connectionTypeDetailSchema, connectionSchema, type Connection, type Participant } from "./schemas/connection.js";
export {
  OUTCOME_SCHEMA_VERSION,
  AWS_ERROR_NAMES,
  OWN_ERROR_NAMES,
  errorNameSchema,
  outcomeErrorSchema,
  acceptedOutcomeSchema,
  failedOutcomeSchema,
  outcomeEventSchema,
  type OutcomeEvent,
  type AcceptedOutcome,
  type FailedOutcome,
  type OutcomeError,
} from "./schemas/outcome.js";
export { configSchema, CONFIG_DEFAULTS, type Config, type ConfigInput } from "./schemas/config.js";
export { toFieldIssues, formatFieldIssues, type FieldIssue } from "./schemas/issues.js";

// Errors: match on `code`.
export {
  PcInvitationsError,
  RequestValidationError,
  ConfigError,
  RedisUnavailableError,
  RedisFullError,
  RedisAuthError,
  BatchValidationError,
  IdempotencyConflictError,
  OutcomeParkedError,
} from "./errors/index.js";

// Configuration and logging.
export { loadConfig } from "./config/load-config.js";
export { createLogger, type Logger } from "./observability/logger.js";

// Producing requests.
export { createProducer, type Producer, type ProducerOptions, type EnqueueResult } from "./producer/producer.js";
export { validateRequest, type ValidationResult } from "./producer/validate-request.js";
export { DEFAULT_RETRY_POLICY, type RetryPolicy } from "./producer/job-options.js";
export { DEFAULT_QUEUE_LOCATION, type QueueLocation } from "./queues/queue-names.js";

// Request identity (what the producer derives; useful to correlate outside).
export { defaultIdempotencyKey, newRequestJobId, deriveClientToken, outcomeEventId } from "./request-record/identity.js";

// Consuming outcomes.
export { consumeOutcomes, OUTCOME_MAX_STALLED_COUNT, type ConsumeOutcomesOptions, type OutcomeConsumer } from "./outcomes/consume.js";
export { listParkedOutcomes, replayParkedOutcomes, type ParkedOutcome, type ParkedLocation, type ReplayResult } from "./outcomes/parked.js";

// Running workers.
export { startWorker, type RunningWorker, type StartWorkerOptions } from "./app/run-worker.js";
export { createAcceptWorker, type WorkerOptions } from "./consumer/worker.js";
export { processJob, type JobView, type ProcessDeps, type ProcessResult } from "./consumer/process-job.js";
export { decide, type Decision } from "./consumer/decide.js";
export { classifyError, type ClassifiedError, type ErrorKind } from "./aws/classify-error.js";
export { createSdkInvitationApi, type SdkInvitationApiOptions } from "./aws/sdk-invitation-api.js";
export type { InvitationApi, AcceptInvitationInput, AcceptInvitationResult } from "./aws/invitation-api.js";
