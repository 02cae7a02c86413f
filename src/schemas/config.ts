import { z } from "zod";
import { limitKeySchema } from "./limit-key.js";
import { DURATION_RULE, durationListSchema, durationSchema } from "./duration.js";

const int = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce
    .number({ error: "must be a number" })
    .int({ error: "must be a whole number" })
    .min(min, { error: `must be ≥ ${min}` })
    .max(max, { error: `must be ≤ ${max}` });

/**
 * A duration in ms that a timer waits: at most 2^31 − 1 (~24.8 days), Node's timers' largest
 * delay (a larger one fires after 1 ms, with only a TimeoutOverflowWarning to say so).
 */
const ms = (min: number) => int(min, MAX_TIMER_MS);
export const MAX_TIMER_MS = 2_147_483_647;

/** A duration as people type it (24h, 30m), or its ms once parsed (a config parsed again). */
const duration = (max = Number.MAX_SAFE_INTEGER) =>
  z
    .union([z.number().int().min(1), durationSchema], { error: DURATION_RULE })
    .pipe(z.number().max(max, { error: `must be at most ${max} ms` }));

/** A rate, calls/s: the bounds of limitSettingsIssues (ratelimit/limit-settings.ts LIMIT_BOUNDS; a test checks they
 * agree). */
const rate = () =>
  z.coerce
    .number({ error: "must be a number" })
    .min(0.001, { error: "must be ≥ 0.001" })
    .max(1_000_000, { error: "must be ≤ 1000000" });

/** Bearer tokens, comma-separated, each at least 16 characters without whitespace. */
const tokenList = () =>
  z
    // A list is accepted too, so a parsed config can be parsed again (loadConfig({}, config)).
    .union([z.string(), z.array(z.string())], { error: "must be a comma-separated list of tokens" })
    .transform((raw, ctx) => {
      const tokens = (typeof raw === "string" ? raw.split(",") : raw).map((t) => t.trim()).filter((t) => t.length > 0);
      // Messages never quote a token: config errors are printed and may be logged.
      if (tokens.length === 0) ctx.addIssue({ code: "custom", message: "must list at least one token" });
      if (tokens.some((t) => t.length < 16))
        ctx.addIssue({ code: "custom", message: "each token must be at least 16 characters" });
      if (tokens.some((t) => /\s/.test(t)))
        ctx.addIssue({ code: "custom", message: "tokens must not contain whitespace" });
      return tokens;
    });

/** true/false (also 1/0, yes/no, on/off); a boolean is accepted too, so a parsed config parses again. */
const flag = () => z.union([z.boolean(), z.stringbool()], { error: "must be true or false" });

/**
 * Every environment variable pc-invitations reads, with its default. This is the one source of
 * defaults: the README table is checked against it by a test.
 */
export const configSchema = z
  .object({
    /** Redis for both queues. @defaultValue redis://127.0.0.1:6379 */
    REDIS_URL: z
      .url({ protocol: /^rediss?$/, error: "must be a redis:// or rediss:// URL" })
      .default("redis://127.0.0.1:6379"),
    /** REDIS_URL names one node of a Redis Cluster (seed); the cluster is discovered from it. @defaultValue false */
    REDIS_CLUSTER: flag().default(false),
    /**
     * At start-up, how long a CLI command (worker, serve, enqueue, outcomes, limits) keeps trying to
     * reach Redis before it gives up with exit 3, ms; tries back off from 250 ms to 5 s apart and
     * each is logged. 0 = one try. A wrong password is not retried. @defaultValue 30000
     */
    REDIS_STARTUP_TIMEOUT_MS: ms(0).default(30_000),
    /** BullMQ key prefix. Braces make it a Redis Cluster hash tag, so all keys share one slot. @defaultValue {pci} */
    QUEUE_PREFIX: z
      .string()
      .min(1)
      .regex(/^[^\s:]+$/, { error: "must be non-empty without spaces or ':'" })
      .default("{pci}"),
    /** Name of the requests queue. @defaultValue accept-invitation */
    REQUESTS_QUEUE: z.string().min(1).default("accept-invitation"),
    /** Name of the outcomes queue. @defaultValue invitation-outcomes */
    OUTCOMES_QUEUE: z.string().min(1).default("invitation-outcomes"),
    /** Name of the queue whose job scheduler runs `discover --every` once per period for the whole fleet.
     * @defaultValue invitation-discovery */
    DISCOVERY_QUEUE: z.string().min(1).default("invitation-discovery"),
    /**
     * Most ListConnectionInvitations pages one discovery reads per catalog (at 100 invitations a
     * page): a listing that still has a NextToken after them ends the discovery with an AWS_ERROR
     * (TooManyPages) instead of running on. @defaultValue 1000
     */
    DISCOVERY_MAX_PAGES: int(1, 1_000_000).default(1000),
    /**
     * Most invitations a discovery's summary lists one by one (CLI lines, the HTTP answer's
     * `invitations`); its counts cover all of them and `invitationsOmitted` says how many are not
     * listed. @defaultValue 1000
     */
    DISCOVERY_MAX_LISTED: int(0, 1_000_000).default(1000),
    /**
     * How long before a held invitation's ExpiresAt its `invitation.expiring` notice goes out: a
     * duration (30m, 24h, 2d), kept in ms. @defaultValue 24h
     */
    HELD_EXPIRY_NOTICE: duration().default(86_400_000),
    /**
     * How often a worker or `serve` checks the held invitations (expiring notices, expired ones
     * closed): a duration (30s, 1m), kept in ms. @defaultValue 1m
     */
    HELD_CHECK_INTERVAL: duration(MAX_TIMER_MS).default(60_000),
    /** AWS region of the Partner Central Account API (only us-east-1 exists). @defaultValue us-east-1 */
    AWS_REGION: z.string().min(1).default("us-east-1"),
    /** Endpoint override, e.g. the emulator. Unset = the real AWS endpoint. */
    PARTNERCENTRAL_ENDPOINT: z.url({ protocol: /^https?$/, error: "must be an http(s) URL" }).optional(),
    /** Timeout of one API call, ms. @defaultValue 10000 */
    AWS_REQUEST_TIMEOUT_MS: ms(100).default(10_000),
    /** Jobs one worker process runs at once. @defaultValue 4 */
    WORKER_CONCURRENCY: int(1, 1000).default(4),
    // Shared adaptive rate limit (src/ratelimit): these are only the initial values, written to Redis
    // when a limit does not exist there yet; after that Redis holds them (`pc-invitations limits set`).
    /**
     * Longest a job waits for a slot of the shared limit while holding its worker slot, ms; past it
     * the job is put back in the delayed set. @defaultValue 20000
     */
    RATE_LIMIT_MAX_WAIT_MS: ms(0).default(20_000),
    /**
     * Name of the limit the worker's calls count against (free-form, e.g. per credential profile);
     * `{catalog}` in it is replaced by each request's catalog, for one limit per catalog. @defaultValue default
     */
    RATE_LIMIT_KEY: limitKeySchema.default("default"),
    /** Initial ceiling of the shared adaptive rate limit, calls/s (fractions allowed, ≥ 0.001). @defaultValue 5 */
    RATE_LIMIT_RPS: rate().default(5),
    /** Initial burst: calls that may go back to back after an idle spell; the limiter admits at most RPS + BURST calls
     * in any 1 s window (Redis time; arrivals at the API carry jitter). @defaultValue 5 */
    RATE_LIMIT_BURST: int(1, 1_000_000).default(5),
    /** Initial floor of the adaptive rate after throttles, calls/s (capped at RATE_LIMIT_RPS). @defaultValue 1 */
    RATE_LIMIT_MIN_RPS: rate().default(1),
    /** Initial retry budget: retries may be at most this fraction (0-1) of the calls of the last minute… @defaultValue
     * 0.1 */
    RETRY_BUDGET_RATIO: z.coerce
      .number({ error: "must be a number" })
      .min(0, { error: "must be ≥ 0" })
      .max(1, { error: "must be ≤ 1" })
      .default(0.1),
    /** …or this many retries per minute, whichever is more, so a quiet system can still retry. @defaultValue 10 */
    RETRY_BUDGET_MIN_PER_MINUTE: int(0).default(10),
    /** API attempts per request, first call included, for transient errors. @defaultValue 6 */
    JOB_ATTEMPTS: int(1, 100).default(6),
    /** Base of the exponential backoff between attempts, ms. @defaultValue 1000 */
    BACKOFF_DELAY_MS: ms(0).default(1000),
    /** Jitter fraction (0-1) applied to each backoff delay. @defaultValue 0.5 */
    BACKOFF_JITTER: z.coerce
      .number({ error: "must be a number" })
      .min(0, { error: "must be ≥ 0" })
      .max(1, { error: "must be ≤ 1" })
      .default(0.5),
    /** Times one job may be put back for throttling before throttles count as failed attempts. @defaultValue 10 */
    MAX_THROTTLE_REQUEUES: int(0).default(10),
    /**
     * First pause of a worker whose calls AWS refuses for a fault of its own (no usable credentials,
     * an expired token, a skewed clock), ms; it doubles while the fault lasts. @defaultValue 5000
     */
    FAULT_PAUSE_MS: ms(10).default(5000),
    /** Longest such pause, ms. @defaultValue 300000 */
    FAULT_PAUSE_MAX_MS: ms(10).default(300_000),
    /** On SIGTERM/SIGINT, how long in-flight jobs may run before the worker exits anyway, ms. @defaultValue 30000 */
    SHUTDOWN_GRACE_MS: ms(0).default(30_000),
    /** How long finished request jobs (and so duplicate detection) and outcome events are kept, s. @defaultValue 86400
     * */
    RETENTION_SECONDS: int(1).default(86_400),
    /** BullMQ job lock, ms: a worker that does not renew it for this long loses the job. @defaultValue 30000 */
    LOCK_DURATION_MS: ms(1000).default(30_000),
    /** How often workers look for jobs whose worker died (lock expired), ms. @defaultValue 30000 */
    STALLED_INTERVAL_MS: ms(100).default(30_000),
    /**
     * Times a job may lose its worker before BullMQ gives it up: then it ends as the invitation
     * reads (accepted, rejected, `WorkerLost`), or, while the invitation is still pending, is left to
     * the sweeper (after SWEEP_GRACE_MS). @defaultValue 5
     */
    MAX_STALLED_COUNT: int(0).default(5),
    /**
     * How often a worker process looks for requests whose job was lost without an outcome (one
     * process of the fleet at a time), ms; 0 = never. @defaultValue 60000
     */
    SWEEP_INTERVAL_MS: ms(0).default(60_000),
    /**
     * Requests younger than this, and jobs failed more recently, are left to their worker, ms; keep it
     * above LOCK_DURATION_MS + AWS_REQUEST_TIMEOUT_MS. @defaultValue 60000
     */
    SWEEP_GRACE_MS: ms(0).default(60_000),
    /** Times the sweeper gives a lost PENDING request its job back before ending it failed. @defaultValue 3 */
    SWEEP_MAX_REVIVALS: int(0, 100).default(3),
    /** How long a completed request's idempotency record answers re-submissions, s. @defaultValue 86400 */
    IDEMPOTENCY_RETENTION_SECONDS: int(1).default(86_400),
    /** pino level. @defaultValue info */
    LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
    /**
     * Log lines on stderr: pretty (for people) or json (one object per line). @defaultValue pretty on a terminal,
     * json otherwise
     */
    LOG_FORMAT: z.enum(["pretty", "json"]).optional(),

    // HTTP API (`pc-invitations serve`), metrics and tracing.
    /** Port of the HTTP API; 0 = any free port. @defaultValue 8080 */
    HTTP_PORT: int(0, 65_535).default(8080),
    /** Address the HTTP API listens on. @defaultValue 0.0.0.0 */
    HTTP_HOST: z.string().min(1).default("0.0.0.0"),
    /**
     * Bearer tokens the HTTP API accepts, comma-separated (several, so they can be rotated), each at
     * least 16 characters. Unset: `serve` refuses to start unless HTTP_AUTH_DISABLED=true.
     */
    HTTP_AUTH_TOKENS: tokenList().optional(),
    /** Run the HTTP API without authentication (only behind something that authenticates). @defaultValue false */
    HTTP_AUTH_DISABLED: flag().default(false),
    /**
     * Bearer tokens that open the dashboard at /admin/queues (and nothing else), comma-separated,
     * each at least 16 characters, none of them also in HTTP_AUTH_TOKENS. The dashboard shows every
     * request's data and Redis's details: no ingest token opens it, and HTTP_AUTH_DISABLED does not
     * either. Unset: no dashboard.
     */
    HTTP_ADMIN_TOKENS: tokenList().optional(),
    /**
     * Most requests in one `POST /v1/acceptances/batch`, at most 10,000: a batch is one Redis script,
     * which holds Redis for all of it (~40 µs a request), and must end within HTTP_REDIS_TIMEOUT_MS.
     * @defaultValue 500
     */
    HTTP_MAX_BATCH: int(1, 10_000).default(500),
    /** Largest accepted HTTP request body, bytes; larger → 413. @defaultValue 1048576 */
    HTTP_BODY_LIMIT_BYTES: int(1).default(1_048_576),
    /** Requests queue backlog (waiting + delayed + prioritized) above which POSTs get 503. @defaultValue 100000 */
    HTTP_MAX_BACKLOG: int(0).default(100_000),
    /** How long one HTTP request waits for Redis before answering 503, ms. @defaultValue 2000 */
    HTTP_REDIS_TIMEOUT_MS: ms(1).default(2000),
    /** `Retry-After` sent with a 503 (backlog full, Redis unreachable), s. @defaultValue 5 */
    HTTP_RETRY_AFTER_SECONDS: int(1).default(5),
    /**
     * The whole request, headers and body, must arrive within this, ms; a client that trickles or
     * stalls its body gets 408 and its connection is closed. @defaultValue 30000
     */
    HTTP_REQUEST_TIMEOUT_MS: int(100, 3_600_000).default(30_000),
    /**
     * The request headers must arrive within this, ms (≤ HTTP_REQUEST_TIMEOUT_MS); a connection that
     * sends nothing, or trickles its headers, gets 408 and is closed. @defaultValue 10000
     */
    HTTP_HEADERS_TIMEOUT_MS: int(100, 3_600_000).default(10_000),
    /** An idle keep-alive connection (between two requests) is closed after this, ms. @defaultValue 5000 */
    HTTP_KEEP_ALIVE_TIMEOUT_MS: int(100, 3_600_000).default(5000),
    /**
     * A connection on which nothing is sent or received for this long is closed, ms (a client that
     * stops reading its answer, a dead peer). Must exceed HTTP_REDIS_TIMEOUT_MS. @defaultValue 30000
     */
    HTTP_IDLE_TIMEOUT_MS: int(100, 3_600_000).default(30_000),
    /**
     * Most open connections; when one more arrives, the oldest connection that has no request in
     * progress (idle, or still sending headers) is closed to make room, else the new one is. Keep it
     * below the process's file-descriptor limit (`ulimit -n`) minus ~50. @defaultValue 512
     */
    HTTP_MAX_CONNECTIONS: int(1, 1_000_000).default(512),
    /**
     * Serve the bull-board dashboard at /admin/queues, to HTTP_ADMIN_TOKENS only (without them there
     * is no dashboard). false: never, and bull-board is never loaded. @defaultValue true
     */
    HTTP_DASHBOARD: flag().default(true),
    /**
     * The server is behind a proxy that sets X-Forwarded-Proto/-For: believe them (the console's
     * session cookie is then Secure when the client's connection to the proxy was TLS). @defaultValue false
     */
    HTTP_TRUST_PROXY: flag().default(false),
    /** How long a console login lasts, ms (absolute: then log in again). @defaultValue 28800000 (8 h) */
    CONSOLE_SESSION_TTL_MS: ms(60_000).default(28_800_000),
    /** Port of the Prometheus /metrics server of worker processes; 0 = any free port. Unset = no server. */
    METRICS_PORT: int(0, 65_535).optional(),
    /**
     * Heartbeat file that `worker`, `serve` and `emulator` rewrite every 5 s with whether they are
     * healthy; `pc-invitations healthcheck` reads it (the Docker HEALTHCHECK). Unset = no file.
     */
    HEALTH_FILE: z.string().min(1).optional(),
    /** OTLP/HTTP collector base URL (traces go to `<url>/v1/traces`). Unset = tracing off, at no cost. */
    OTEL_EXPORTER_OTLP_ENDPOINT: z.url({ protocol: /^https?$/, error: "must be an http(s) URL" }).optional(),

    // Webhooks (`pc-invitations deliver`, docs/webhooks.md).
    /**
     * Delays between a webhook delivery's attempts, comma-separated durations (the Standard Webhooks
     * schedule, about 3 days in all); an event is given up after the last. @defaultValue
     * 5s,5m,30m,2h,5h,10h,14h,20h,24h
     */
    WEBHOOK_RETRY_SCHEDULE: durationListSchema.default([
      5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 50_400_000, 72_000_000, 86_400_000,
    ]),
    /** An endpoint failing (no success) for this long is disabled, and says why. @defaultValue 5d */
    WEBHOOK_DISABLE_AFTER: duration().default(432_000_000),
    /** One delivery's bound (connect, send, answer), ms. @defaultValue 15000 */
    WEBHOOK_TIMEOUT_MS: ms(100).default(15_000),
    /** At most this much of an answer is read, bytes; the rest is dropped with its connection. @defaultValue 65536 */
    WEBHOOK_MAX_RESPONSE_BYTES: int(0, 16_777_216).default(65_536),
    /** Deliver to private, loopback and link-local addresses too (a test or a private network). @defaultValue false */
    WEBHOOK_ALLOW_PRIVATE: flag().default(false),
    /** Deliveries in flight per `deliver` process. @defaultValue 32 */
    WEBHOOK_CONCURRENCY: int(1, 10_000).default(32),
    /**
     * Default per-endpoint rate limit, deliveries per second (0 = none); `webhooks add --rate` overrides it.
     * @defaultValue 0
     */
    WEBHOOK_RATE_LIMIT: int(0, 100_000).default(0),
    /**
     * How long an old secret keeps signing after `webhooks rotate-secret`, so receivers can switch. @defaultValue 24h
     */
    WEBHOOK_SECRET_OVERLAP: duration().default(86_400_000),
    // Event intake (`pc-invitations ingest`, docs/events.md).
    /**
     * The Partner Central Account endpoint, by the SDK's standard name for it (service-specific
     * endpoint settings); PARTNERCENTRAL_ENDPOINT is its older alias (both set: they must agree).
     * Unset = the real AWS endpoint.
     */
    AWS_ENDPOINT_URL_PARTNERCENTRAL_ACCOUNT: z
      .url({ protocol: /^https?$/, error: "must be an http(s) URL" })
      .optional(),
    /** The SQS endpoint (the SDK's standard setting), e.g. a local SQS-compatible server. Unset = AWS. */
    AWS_ENDPOINT_URL_SQS: z.url({ protocol: /^https?$/, error: "must be an http(s) URL" }).optional(),
    /**
     * How long an event received by `ingest` stays hidden from other receivers while it is worked on,
     * s; extended every third of it while the work lasts. @defaultValue 60
     */
    INGEST_VISIBILITY_TIMEOUT_SECONDS: int(5, 43_200).default(60),
    /** Long-poll wait of one receive of `ingest`, s (SQS allows 0-20). @defaultValue 20 */
    INGEST_WAIT_SECONDS: int(0, 20).default(20),
    /**
     * Longest pause of `ingest` between tries while SQS fails, ms (it starts at 250 and doubles). @defaultValue 30000
     */
    INGEST_BACKOFF_MAX_MS: ms(250).default(30_000),
    /**
     * Batches one `ingest` process works on at once: the next receive does not wait for the batch in
     * hand (its work, its deletes), so an event that arrives meanwhile is not held up. @defaultValue 4
     */
    INGEST_BATCHES_IN_FLIGHT: int(1, 50).default(4),

    // History in PostgreSQL (docs/history.md).
    /**
     * PostgreSQL for the history of every outcome event and decision (`deliver` writes it,
     * `pc-invitations history` reads it), e.g. postgres://user:pass@127.0.0.1:5432/pci. Unset = no
     * history: everything else works as without it.
     */
    DATABASE_URL: z
      .url({ protocol: /^postgres(ql)?$/, error: "must be a postgres:// or postgresql:// URL" })
      .optional(),
    /**
     * Days the history keeps a row; older rows are removed by `deliver` (hourly) and `history retain`,
     * and the hash the first kept row chains to is kept so `history verify` still works. Unset = kept forever.
     */
    HISTORY_RETENTION_DAYS: int(1, 36_500).optional(),
  })
  .check((ctx) => {
    // Cross-variable rules, reported on the variable to change.
    const c = ctx.value;
    if (c.HTTP_HEADERS_TIMEOUT_MS > c.HTTP_REQUEST_TIMEOUT_MS) {
      ctx.issues.push({
        code: "custom",
        input: c.HTTP_HEADERS_TIMEOUT_MS,
        path: ["HTTP_HEADERS_TIMEOUT_MS"],
        message: "must be ≤ HTTP_REQUEST_TIMEOUT_MS",
      });
    }
    // An admin token that is also an ingest token would let that producer read the dashboard.
    if (c.HTTP_ADMIN_TOKENS?.some((t) => c.HTTP_AUTH_TOKENS?.includes(t))) {
      ctx.issues.push({
        code: "custom",
        input: "[redacted]",
        path: ["HTTP_ADMIN_TOKENS"],
        message: "must not repeat a token of HTTP_AUTH_TOKENS (the dashboard needs tokens of its own)",
      });
    }
    if (c.HTTP_IDLE_TIMEOUT_MS <= c.HTTP_REDIS_TIMEOUT_MS) {
      ctx.issues.push({
        code: "custom",
        input: c.HTTP_IDLE_TIMEOUT_MS,
        path: ["HTTP_IDLE_TIMEOUT_MS"],
        message: "must be > HTTP_REDIS_TIMEOUT_MS",
      });
    }
    // Two names of one setting (the SDK's standard one and our older alias) must not disagree.
    if (
      c.AWS_ENDPOINT_URL_PARTNERCENTRAL_ACCOUNT !== undefined &&
      c.PARTNERCENTRAL_ENDPOINT !== undefined &&
      c.AWS_ENDPOINT_URL_PARTNERCENTRAL_ACCOUNT !== c.PARTNERCENTRAL_ENDPOINT
    ) {
      ctx.issues.push({
        code: "custom",
        input: c.PARTNERCENTRAL_ENDPOINT,
        path: ["PARTNERCENTRAL_ENDPOINT"],
        message: "must equal AWS_ENDPOINT_URL_PARTNERCENTRAL_ACCOUNT when both are set (it is its alias; set one)",
      });
    }
    // Every script touches keys of both queues and the records: on a Cluster they must share a slot,
    // which only a hash tag in the prefix gives (Redis hashes the text between the first '{' and
    // the next '}' when it is not empty). Without one, every script fails with CROSSSLOT at run time.
    if (c.REDIS_CLUSTER && !/^[^{]*\{[^}]+\}/.test(c.QUEUE_PREFIX)) {
      ctx.issues.push({
        code: "custom",
        input: c.QUEUE_PREFIX,
        path: ["QUEUE_PREFIX"],
        message: "must hold a Redis Cluster hash tag, e.g. {pci}, when REDIS_CLUSTER is true",
      });
    }
  });

export type Config = Readonly<z.infer<typeof configSchema>>;
export type ConfigInput = z.input<typeof configSchema>;

/**
 * Every default of the schema, parsed once. The library's own defaults (queue names, retry policy,
 * worker and limiter settings) are read from here, so an option left out of a library call means
 * what the unset environment variable means.
 */
export const CONFIG_DEFAULTS: Config = Object.freeze(configSchema.parse({}));

/**
 * The Partner Central Account endpoint the config names (AWS_ENDPOINT_URL_PARTNERCENTRAL_ACCOUNT or its alias);
 * undefined = AWS.
 */
export function partnerCentralEndpoint(
  config: Pick<Config, "AWS_ENDPOINT_URL_PARTNERCENTRAL_ACCOUNT" | "PARTNERCENTRAL_ENDPOINT">,
): string | undefined {
  return config.AWS_ENDPOINT_URL_PARTNERCENTRAL_ACCOUNT ?? config.PARTNERCENTRAL_ENDPOINT;
}
