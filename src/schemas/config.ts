import { z } from "zod";

const int = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce
    .number({ error: "must be a number" })
    .int({ error: "must be a whole number" })
    .min(min, { error: `must be ≥ ${min}` })
    .max(max, { error: `must be ≤ ${max}` });

/**
 * Every environment variable pc-invitations reads, with its default. This is the one source of
 * defaults: the README table is checked against it by a test.
 */
export const configSchema = z.object({
  /** Redis for both queues. @defaultValue redis://127.0.0.1:6379 */
  REDIS_URL: z.url({ protocol: /^rediss?$/, error: "must be a redis:// or rediss:// URL" }).default("redis://127.0.0.1:6379"),
  /** BullMQ key prefix. Braces make it a Redis Cluster hash tag, so all keys share one slot. @defaultValue {pci} */
  QUEUE_PREFIX: z.string().min(1).regex(/^[^\s:]+$/, { error: "must be non-empty without spaces or ':'" }).default("{pci}"),
  /** Name of the requests queue. @defaultValue accept-invitation */
  REQUESTS_QUEUE: z.string().min(1).default("accept-invitation"),
  /** Name of the outcomes queue. @defaultValue invitation-outcomes */
  OUTCOMES_QUEUE: z.string().min(1).default("invitation-outcomes"),
  /** AWS region of the Partner Central Account API (only us-east-1 exists). @defaultValue us-east-1 */
  AWS_REGION: z.string().min(1).default("us-east-1"),
  /** Endpoint override, e.g. the emulator. Unset = the real AWS endpoint. */
  PARTNERCENTRAL_ENDPOINT: z.url({ protocol: /^https?$/, error: "must be an http(s) URL" }).optional(),
  /** Timeout of one API call, ms. @defaultValue 10000 */
  AWS_REQUEST_TIMEOUT_MS: int(100).default(10_000),
  /** Jobs one worker process runs at once. @defaultValue 4 */
  WORKER_CONCURRENCY: int(1, 1000).default(4),
  /** Global rate limit shared by all workers: at most MAX calls... @defaultValue 5 */
  RATE_LIMIT_MAX: int(1).default(5),
  /** ...per this many ms. @defaultValue 1000 */
  RATE_LIMIT_DURATION_MS: int(1).default(1000),
  /** API attempts per request, first call included, for transient errors. @defaultValue 6 */
  JOB_ATTEMPTS: int(1, 100).default(6),
  /** Base of the exponential backoff between attempts, ms. @defaultValue 1000 */
  BACKOFF_DELAY_MS: int(0).default(1000),
  /** Jitter fraction (0-1) applied to each backoff delay. @defaultValue 0.5 */
  BACKOFF_JITTER: z.coerce.number({ error: "must be a number" }).min(0, { error: "must be ≥ 0" }).max(1, { error: "must be ≤ 1" }).default(0.5),
  /** Queue-wide pause after a ThrottlingException without Retry-After, ms. @defaultValue 1000 */
  THROTTLE_PAUSE_MS: int(0).default(1000),
  /** Times one job may be put back for throttling before throttles count as failed attempts. @defaultValue 10 */
  MAX_THROTTLE_REQUEUES: int(0).default(10),
  /** On SIGTERM/SIGINT, how long in-flight jobs may run before the worker exits anyway, ms. @defaultValue 30000 */
  SHUTDOWN_GRACE_MS: int(0).default(30_000),
  /** How long finished request jobs (and so duplicate detection) and outcome events are kept, s. @defaultValue 86400 */
  RETENTION_SECONDS: int(1).default(86_400),
  /** BullMQ job lock, ms: a worker that does not renew it for this long loses the job. @defaultValue 30000 */
  LOCK_DURATION_MS: int(1000).default(30_000),
  /** How often workers look for jobs whose worker died (lock expired), ms. @defaultValue 30000 */
  STALLED_INTERVAL_MS: int(100).default(30_000),
  /** Times a job may lose its worker before it is given up (with an outcome). @defaultValue 5 */
  MAX_STALLED_COUNT: int(0).default(5),
  /** How long a completed request's idempotency record answers re-submissions, s. @defaultValue 86400 */
  IDEMPOTENCY_RETENTION_SECONDS: int(1).default(86_400),
  /** pino level. @defaultValue info */
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
});

export type Config = Readonly<z.infer<typeof configSchema>>;
export type ConfigInput = z.input<typeof configSchema>;
