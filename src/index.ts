/** Public API of pc-invitations. */
export * from "./schemas/index.js";
export * from "./errors/index.js";
export { loadConfig } from "./config/load-config.js";
export { createLogger, type Logger } from "./observability/logger.js";
export { createProducer, type Producer, type ProducerOptions, type EnqueueResult } from "./producer/producer.js";
export { validateRequest, type ValidationResult } from "./producer/validate-request.js";
export { DEFAULT_RETRY_POLICY, type RetryPolicy } from "./producer/job-options.js";
export { consumeOutcomes, type ConsumeOutcomesOptions, type OutcomeConsumer } from "./outcomes/consume.js";
export { startWorker, type RunningWorker } from "./consumer/run-worker.js";
export { createAcceptWorker, type WorkerOptions } from "./consumer/worker.js";
export { processJob, type JobView, type ProcessDeps, type ProcessResult } from "./consumer/process-job.js";
export { decide, type Decision } from "./consumer/decide.js";
export { classifyError, type ClassifiedError, type ErrorKind } from "./aws/classify-error.js";
export { createSdkInvitationApi, type SdkInvitationApiOptions } from "./aws/sdk-invitation-api.js";
export type { InvitationApi, AcceptInvitationInput, AcceptInvitationResult } from "./aws/invitation-api.js";
export { deriveClientToken, outcomeEventId } from "./queues/identity.js";
export { defaultIdempotencyKey, newRequestJobId } from "./idempotency/keys.js";
export { DEFAULT_QUEUE_LOCATION, type QueueLocation } from "./queues/queue-names.js";
