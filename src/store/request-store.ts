import type { PreparedRequest, RequestRecord, ReservationPreview, SubmissionResult } from "../request-record/record.js";
import type { AcceptJobData } from "../contracts/job.js";
import type { FailedOutcome, OutcomeEvent } from "../contracts/outcome.js";
import type { RequestQuery } from "./request-query.js";

/**
 * The request store: everything pc-invitations keeps about a request, spoken in the request's
 * lifecycle. Producer, worker, sweeper, cancel and redrive call this port and know no key; the
 * Redis implementation (redis/redis-request-store.ts: BullMQ queues, the request records, Lua
 * scripts) is the one place that does, and memory-request-store.ts keeps the same promises in
 * memory for unit tests of the code around it.
 *
 * The promises every implementation keeps:
 * - `submit`: a batch is judged against the records first and written after, all or nothing: a
 *   conflict anywhere refuses the whole batch; a new request's record and its job are written
 *   together; two submissions of one key make one request;
 * - `publish`: at most one outcome per request, never overwritten; a run that lost its fence
 *   publishes nothing; the record is `completed` exactly when the outcome exists;
 * - `publishUnlessStarted`: publishes only while no run holds the job and it has not finished.
 */
export interface RequestStore
  extends SubmissionStore,
    OutcomeStore,
    JobStore,
    SweepStore,
    ObserveStore,
    WorkerRegistry {
  /** Failed outcome events in any state (consumed or not), oldest first (redrive's work list). */
  failedOutcomes(filter?: FailedOutcomeFilter): Promise<FailedOutcome[]>;
  close(): Promise<void>;
}

/** The producer's part. */
export interface SubmissionStore {
  /**
   * Each request's submission, in order: new (record and job written), or a duplicate (the first
   * submission's job, state and outcome once complete).
   * @throws IdempotencyConflictError (nothing of the batch written), RecordUnreadableError,
   *   RedisFullError
   */
  submit(items: readonly PreparedRequest[]): Promise<SubmissionResult[]>;
  /** What submit would do with each request, writing nothing (dry runs). @throws RecordUnreadableError */
  preview(items: readonly PreparedRequest[]): Promise<ReservationPreview[]>;
}

/** Proof that the caller still owns the request job: the lock token of its run. */
export interface Fence {
  jobId: string;
  token: string;
}

export type PublishResult =
  /** Published, and the request record (if any) marked completed. */
  | "published"
  /** An outcome for this request existed already: nothing written. */
  | "already-published"
  /** The job's lock is no longer ours (another worker has the job): nothing written. */
  | "fenced";

/** Where outcome events go. `publish` is idempotent per requestId and fenced by the job lock. */
export interface OutcomeStore {
  /** True when an outcome for this request was already published. */
  exists(requestId: string): Promise<boolean>;
  /** Publishes the event and completes the request's record (named by `idempotencyKey`) with it. */
  publish(event: OutcomeEvent, options?: { fence?: Fence; idempotencyKey?: string }): Promise<PublishResult>;
  /** The request's outcome event, when it has one (and it is still kept). */
  readOutcome(requestId: string): Promise<OutcomeEvent | undefined>;
  /**
   * Publishes the outcome of a request whose job no run has taken (waiting, delayed, prioritized)
   * and completes its record, atomically with that check. `{ started: state }` when the job is
   * active or finished (nothing written).
   */
  publishUnlessStarted(
    event: OutcomeEvent,
    options?: { idempotencyKey?: string },
  ): Promise<PublishResult | { started: string }>;
}

/**
 * The states of a request's job: waiting, delayed, prioritized (no run has it), active, completed,
 * failed, or unknown (no such job).
 */
export type JobState = "waiting" | "delayed" | "prioritized" | "active" | "completed" | "failed" | "unknown";

/** A request's job as the store holds it. */
export interface StoredJob {
  id: string;
  /** The job's data as stored: valid job data, or whatever broke it. */
  data: unknown;
  /** Failed attempts so far. */
  attemptsMade: number;
  state: JobState;
  /**
   * A run has taken the job at least once (it may have sent the request to AWS, even if no
   * attempt failed yet: a lost answer, a lock lost mid-call).
   */
  started: boolean;
}

/** Where a request's job is, as the sweeper sees it. */
export type JobStatus =
  /** waiting, active, delayed, prioritized: someone will run it. */
  | "live"
  | "completed"
  | "failed"
  /** The job's data exists but it is in no state (a half-run write). */
  | "orphan"
  | "missing";

/** The request's job, for cancel, the run and the sweeper. */
export interface JobStore {
  job(requestId: string): Promise<StoredJob | undefined>;
  jobState(requestId: string): Promise<JobState>;
  /** Removes a job no run holds; false when it could not (a run took it, or it is gone). */
  removeJob(requestId: string): Promise<boolean>;
  /**
   * The open record that names this job, if any: its request's whole payload, from which a job
   * whose data was lost or broken is rebuilt (request-record/record.ts jobDataFromRecord).
   */
  recordOfJob(jobId: string): Promise<RequestRecord | undefined>;
  /** Replaces the data of a job that exists (a job rebuilt from its record). */
  rewriteJobData(jobId: string, data: AcceptJobData): Promise<void>;
}

/** A failed job of the store's failed set. */
export interface FailedJob {
  jobId: string;
  data: unknown;
  attemptsMade: number;
  /** When it failed, ms since the epoch. */
  finishedOn: number;
}

/** What the sweeper reads and writes. */
export interface SweepStore {
  /** Open records (queued, in progress) created before `beforeMs`, oldest first; undefined where the hash is gone. */
  openRecords(
    beforeMs: number,
    limit: number,
  ): Promise<Array<{ recordKey: string; record: RequestRecord | undefined }>>;
  /** Drops a record from the open-records index (its record is gone). */
  forgetRecord(recordKey: string): Promise<void>;
  /**
   * One more revival of the request's job; returns how many it has had. A record gone meanwhile
   * is not re-created: 1 is returned and nothing written.
   */
  countRevival(recordKey: string): Promise<number>;
  jobStatus(jobId: string): Promise<JobStatus>;
  /** Jobs that failed since `sinceMs`, oldest first, with their raw data when readable. */
  failedJobsSince(sinceMs: number, limit: number): Promise<FailedJob[]>;
  /** Gives the request its job back (a failed one is retried; a missing or orphaned one added again). */
  reviveJob(jobId: string, status: JobStatus, data: AcceptJobData): Promise<void>;
  /**
   * Rewrites jobs whose stored data or options are not JSON (the queue cannot even read them) so
   * that they end as InvalidJob; returns their ids.
   */
  repairUnreadableJobs(): Promise<string[]>;
  /**
   * Completes an open record with an outcome that exists already (an outcome published without
   * its record: the record had not been found then). False when the record is not open for that
   * outcome's request.
   */
  completeRecord(idempotencyKey: string, outcome: OutcomeEvent): Promise<boolean>;
  /** Takes the fleet's sweeper lease for `ms` unless another holder has it; true when taken. */
  takeSweepLease(holder: string, ms: number): Promise<boolean>;
  /** Where the previous sweep left the failed-jobs cursor (ms), if anywhere. */
  sweepCursor(): Promise<number | undefined>;
  setSweepCursor(ms: number): Promise<void>;
}

export interface FailedOutcomeFilter {
  /** Only outcomes whose `error.name` is one of these (any, when absent or empty). */
  errorNames?: readonly string[];
  /** Only outcomes completed at or after this time, ms since the epoch. */
  sinceMs?: number;
}

/** How many requests each state of the queues holds now (the status read model's counts). */
export interface QueueCounts {
  requests: {
    waiting: number;
    prioritized: number;
    delayed: number;
    active: number;
    /** Finished jobs still kept (RETENTION_SECONDS). */
    completed: number;
    failed: number;
    /** The requests queue is paused for every worker (BullMQ's queue-wide pause). */
    paused: boolean;
  };
  outcomes: {
    /** Published and not yet taken by a consumer. */
    waiting: number;
    /** Being handled by a consumer. */
    active: number;
    /** Parked: a consumer gave up on them (the outcomes queue's failed set); they wait for a replay. */
    parked: number;
  };
}

/** A request found by a listing: its job (absent when only its outcome is left) and its outcome. */
export interface ListedRequest {
  id: string;
  job?: { state: JobState; attemptsMade: number };
  outcome: OutcomeEvent | null;
}

/** A page of a listing, and the cursor of the next one (null: the listing is over). */
export interface RequestPage {
  items: ListedRequest[];
  next: string | null;
}

/** What the status read model and the request listings read. Every method reads a bounded amount. */
export interface ObserveStore {
  queueCounts(): Promise<QueueCounts>;
  /**
   * The next request a worker takes (the oldest of the waiting list, which is first in, first out)
   * and when it was enqueued (ms since the epoch); undefined when none waits.
   */
  oldestWaiting(): Promise<{ id: string; enqueuedAtMs: number } | undefined>;
  /**
   * Among the newest `limit` failed request jobs, those without an outcome event (abandoned jobs
   * the sweeper has not finished yet): how many were checked, how many have none, and their ids.
   */
  failedWithoutOutcome(limit: number): Promise<{ checked: number; ids: string[] }>;
  /**
   * A page of requests (request-query.ts says the filters, the order and the cursor). Bounded work
   * per page whatever the queue holds. @throws ListQueryError for a cursor of another query
   */
  listRequests(query: RequestQuery): Promise<RequestPage>;
}

/**
 * A worker process as it says it is, every few seconds (app/run-worker.ts): its presence in the
 * store lasts a few beats, so a process that died or hangs drops out by itself.
 */
export interface WorkerBeat {
  /** `<host>:<pid>:<nonce>`: unique per process start. */
  id: string;
  host: string;
  pid: number;
  /** ISO-8601. */
  startedAt: string;
  concurrency: number;
  /** The shared limits its calls count against (RATE_LIMIT_KEY, per catalog with `{catalog}`). */
  limitKeys: string[];
  /** Paused for a fault of its own (AWS refuses its credentials, signature or clock), or null. */
  fault: { name: string; message: string; since: string; pauseMs: number } | null;
}

/** A worker whose beat is still fresh. */
export interface WorkerPresence extends WorkerBeat {
  /** How long ago its last beat was written, ms (measured by Redis: no clock of another machine involved). */
  lastBeatAgoMs: number;
}

/** The fleet's workers, as their beats say. */
export interface WorkerRegistry {
  /** Writes the worker's beat; it is forgotten `ttlMs` later unless written again. */
  beatWorker(beat: WorkerBeat, ttlMs: number): Promise<void>;
  /** Forgets a worker at once (a clean shutdown). */
  removeWorker(id: string): Promise<void>;
  /** The workers whose beat has not expired, at most `limit` (the most recent beats first). */
  workers(limit: number): Promise<WorkerPresence[]>;
}
