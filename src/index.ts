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
  REJECT_REASON_MAX_LENGTH,
  catalogSchema,
  invitationIdSchema,
  clientTokenSchema,
  metadataSchema,
} from "./schemas/request-fields.js";
export {
  REQUEST_ACTIONS,
  actionOf,
  acceptRequestSchema,
  type AcceptRequest,
  type AcceptRequestInput,
  type RequestAction,
} from "./contracts/request.js";
export { JOB_DATA_VERSION, acceptJobDataSchema, type AcceptJobData } from "./contracts/job.js";
// The operations a request can ask for (accept, reject): one module each.
export { OPERATIONS, operationOf } from "./operations/index.js";
export type { InvitationOperation, OperationRequest, OutcomeFields } from "./operations/operation.js";
export {
  participantSchema,
  connectionTypeDetailSchema,
  connectionSchema,
  type Connection,
  type Participant,
} from "./schemas/connection.js";
export { invitationSchema, type Invitation } from "./schemas/invitation.js";
export {
  OUTCOME_SCHEMA_VERSION,
  OUTCOME_TYPES,
  AWS_ERROR_NAMES,
  OWN_ERROR_NAMES,
  errorNameSchema,
  outcomeErrorSchema,
  acceptedOutcomeSchema,
  rejectedOutcomeSchema,
  failedOutcomeSchema,
  canceledOutcomeSchema,
  outcomeEventSchema,
  type OutcomeEvent,
  type OutcomeType,
  type AcceptedOutcome,
  type RejectedOutcome,
  type FailedOutcome,
  type CanceledOutcome,
  type OutcomeError,
} from "./contracts/outcome.js";
export { configSchema, CONFIG_DEFAULTS, type Config, type ConfigInput } from "./schemas/config.js";
export {
  POLICY_DECISIONS,
  discoveryPolicySchema,
  policyRuleSchema,
  policyConditionsSchema,
  type DiscoveryPolicy,
  type DiscoveryPolicyInput,
  type PolicyDecision,
  type PolicyRule,
} from "./schemas/policy.js";
export { toFieldIssues, formatFieldIssues, type FieldIssue } from "./schemas/issues.js";
export { REQUEST_ID, MAX_REQUEST_ID_LENGTH, isRequestId } from "./schemas/request-id.js";
export { CANCEL_REASON_MAX_LENGTH, cancelReasonSchema } from "./schemas/cancel.js";

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
  PolicyValidationError,
  RecordUnreadableError,
  RequestNotCancelableError,
  RequestNotFoundError,
  CancelValidationError,
  ListQueryError,
  PartnerCentralCallError,
  OutcomeParkedError,
} from "./errors/index.js";

// Configuration and logging.
export { loadConfig } from "./config/load-config.js";
export { createLogger, type Logger } from "./observability/logger.js";

// Producing requests.
export {
  createProducer,
  createProducerOn,
  type RedisProducer,
  type Producer,
  type ProducerOptions,
  type EnqueueResult,
  type RedriveItem,
} from "./producer/producer.js";
export type { ReservationPreview } from "./request-record/record.js";
export { validateRequest, type ValidationResult } from "./producer/validate-request.js";
export { DEFAULT_RETRY_POLICY, type RetryPolicy } from "./store/redis/job-options.js";
export { DEFAULT_QUEUE_LOCATION, type QueueLocation } from "./store/queue-location.js";

// The request store: its port, the Redis implementation and the in-memory one (for tests).
export type {
  RequestStore,
  SubmissionStore,
  OutcomeStore,
  JobStore,
  SweepStore,
  Fence,
  PublishResult,
  JobState,
  JobStatus,
  StoredJob,
  FailedJob,
  FailedOutcomeFilter,
} from "./store/request-store.js";
export {
  createRedisRequestStore,
  type RedisRequestStore,
  type RedisRequestStoreOptions,
} from "./store/redis/redis-request-store.js";
export { createMemoryRequestStore, type MemoryRequestStore } from "./store/memory-request-store.js";

// Discovering pending invitations (pc-invitations discover).
export {
  discover,
  type DiscoveryPorts,
  type DiscoveryOptions,
  type DiscoverySummary,
  type DiscoveredInvitation,
} from "./producer/discover.js";
export { parsePolicy, parsePolicyText, applyPolicy, type PolicyVerdict } from "./producer/discovery-policy.js";
export { createDiscovery, type Discovery } from "./app/discovery.js";

// Acting on enqueued and finished requests (pc-invitations cancel, redrive).
export { cancelRequest, assertCancelArguments, type CancelDeps } from "./outcomes/cancel.js";
export {
  redrive,
  type RedrivePorts,
  type RedriveOptions,
  type RedriveSummary,
  type RedrivenRequest,
} from "./producer/redrive.js";
export { readFailedOutcomes } from "./store/redis/failed-outcomes.js";
export { createRequestControl, type RequestControl } from "./app/request-control.js";

// Reading a deployment: its status (pc-invitations status, GET /v1/status) and its requests, a page at a time
// (GET /v1/acceptances).
export { createRequestReader, type RequestReader, type AcceptancePage } from "./app/request-reader.js";
export {
  readStatus,
  drainEstimate,
  type StatusDeps,
  type StatusReport,
  type LimitStatus,
  type DrainEstimate,
} from "./store/status.js";
export {
  LIST_STATES,
  LIST_LIMIT_DEFAULT,
  LIST_LIMIT_MAX,
  parseRequestQuery,
  type ListState,
  type RequestQuery,
  type RequestQueryInput,
} from "./store/request-query.js";
export type { AcceptanceStatus, AcceptanceState } from "./http/acceptance-status.js";

// Request identity (what the producer derives; useful to correlate outside).
export {
  defaultIdempotencyKey,
  newRequestJobId,
  deriveClientToken,
  redriveIdempotencyKey,
  outcomeEventId,
} from "./request-record/identity.js";

// Consuming outcomes.
export {
  consumeOutcomes,
  isNotice,
  OUTCOME_MAX_STALLED_COUNT,
  type ConsumeOutcomesOptions,
  type OutcomeConsumer,
  type ConsumedEvent,
} from "./outcomes/consume.js";
export {
  listParkedOutcomes,
  replayParkedOutcomes,
  type ParkedOutcome,
  type ParkedLocation,
  type ReplayResult,
} from "./store/redis/parked.js";

// Running workers.
export { startWorker, type RunningWorker, type StartWorkerOptions } from "./app/run-worker.js";
export { createAcceptWorker, type WorkerOptions } from "./consumer/worker.js";
export { processJob, type JobView, type ProcessDeps } from "./consumer/process-job.js";
export type { RunEnd, LaterWhy, NothingWhy, RequestJobResult } from "./consumer/run-end.js";
export { requestJobResultEventId } from "./consumer/run-end.js";
export { decide } from "./consumer/decide.js";
export { settle, type Settled } from "./operations/settle.js";
export { classifyError, type ClassifiedError, type ErrorKind } from "./aws/classify-error.js";
export { createSdkInvitationApi, type SdkInvitationApiOptions } from "./aws/sdk-invitation-api.js";
export type {
  InvitationApi,
  ActResult,
  ConnectionResult,
  InvitationStatusResult,
  ListInvitationsInput,
  ListInvitationsResult,
  InvitationSummary,
} from "./aws/invitation-api.js";

// The outcome log (read without consuming) and the `deliver` fleet's sinks.
export type {
  OutcomeLog,
  LoggedEvent,
  LogEvent,
  LogEntryKind,
  LogFilter,
  LogPage,
  GroupBatch,
} from "./store/outcome-log.js";
export { createRedisOutcomeLog, type RedisOutcomeLogOptions } from "./store/redis/outcome-log.js";
export { runSink, sinkGroup, type EventSink, type RunSinkOptions } from "./delivery/event-sink.js";

// Event intake (pc-invitations ingest: Partner Central's EventBridge events through SQS; docs/events.md).
export { startIngest, type IngestOptions, type RunningIngest } from "./app/ingest.js";
export {
  handleEvent,
  endReason,
  type EventHandling,
  type EventHistory,
  type EventResult,
  type HeldInvitation as IngestHeldInvitation,
  type HeldInvitations,
  type IngestPorts,
} from "./producer/ingest-event.js";
export { runIngestLoop, type BatchReport, type IngestLoopOptions } from "./producer/ingest-loop.js";
export type { EventQueue, QueueMessage } from "./aws/event-queue.js";
export { createSqsEventQueue, type SqsEventQueueOptions } from "./aws/sqs-event-queue.js";
export {
  PARTNERCENTRAL_EVENT_SOURCE,
  PARTNER_EVENT_DETAIL_TYPES,
  EVENT_CONNECTION_TYPES,
  connectionTypeFromEvent,
  readPartnerEvent,
  type PartnerEvent,
  type PartnerEventJson,
  type PartnerEventKind,
} from "./schemas/partnercentral-events.js";
// The access model (issue 20): named scoped tokens, people and their roles, the request's principal.
export {
  accessStoreFromConfig,
  addToken,
  listTokens,
  removeToken,
  addUser,
  listUsers,
  removeUser,
} from "./app/access.js";
export type { AccessStore, StoredToken, StoredUser, StoredSession } from "./store/access-store.js";
export { SCOPES, ROLES, type Scope, type Role } from "./schemas/access.js";
export { principalOf, requirePrincipal, may, type Principal } from "./http/principal.js";
export { AccessNameTakenError } from "./errors/index.js";
// Held invitations: decisions waiting for a person, and their notices.
export {
  noticeSchema,
  noticeEventId,
  NOTICE_SCHEMA_VERSION,
  NOTICE_TYPES,
  type Notice,
  type NoticeType,
} from "./contracts/notice.js";
export {
  HELD_STATES,
  type HeldInvitation,
  type HeldState,
  type HeldStore,
  type HeldSighting,
} from "./store/held-store.js";
export { createMemoryHeldStore } from "./store/memory-held-store.js";
export { decide as decideHeld, recordHeld, closeHeld, checkHeld, type DecisionResult } from "./app/held.js";
// The history in PostgreSQL (docs/history.md).
export { createHistoryPool, type HistoryPool, type HistoryPoolOptions } from "./history/pool.js";
export { migrateHistory, type MigrateOptions } from "./history/migrate.js";
export { appendEvents, type AppendResult } from "./history/append.js";
export { createHistorySink, type HistorySink } from "./history/history-sink.js";
export {
  queryHistory,
  streamHistory,
  HISTORY_PAGE_MAX,
  type HistoryQuery,
  type HistoryRecord,
} from "./history/query.js";
export { exportHistory, EXPORT_FORMATS, type ExportFormat } from "./history/export.js";
export { verifyHistory, type VerifyResult, type ChainBreak } from "./history/verify.js";
export { applyRetention, type RetentionResult } from "./history/retention.js";
export { findDrift, type DriftReport, type DriftOptions } from "./history/drift.js";

// Intake notes on the outcome log (issue 22): accepted elsewhere, connection canceled by the other side.
export { eventNoticeId } from "./contracts/notice.js";
export { noticedHistory } from "./app/event-notices.js";
