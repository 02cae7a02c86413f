import { IdempotencyConflictError } from "../errors/index.js";
import { differingFields } from "../request-record/fingerprint.js";
import {
  jobDataFromRecord,
  judgeSubmission,
  newRecord,
  submissionResult,
  type PreparedRequest,
  type RecordState,
  type RequestRecord,
  type ReservationPreview,
  type SubmissionResult,
} from "../request-record/record.js";
import { UNPARSEABLE_JOB_MARKER, type AcceptJobData } from "../contracts/job.js";
import type { FailedOutcome, OutcomeEvent } from "../contracts/outcome.js";
import type {
  FailedJob,
  JobState,
  JobStatus,
  ListedRequest,
  PublishResult,
  QueueCounts,
  RequestStore,
  StoredJob,
  WorkerBeat,
  WorkerPresence,
} from "./request-store.js";
import { parseRequestJobId } from "../request-record/identity.js";
import { encodeListCursor, type ListPosition, listPositionOf, listSources } from "./request-query.js";

/**
 * The request store in memory: the promises of RequestStore (request-store.ts) kept by plain maps,
 * for unit tests of the code around the store (a run, a submission, a cancel, a sweep) without
 * Redis. One process, one event loop: every method is atomic. Not for production: nothing is
 * shared between processes and nothing survives a restart.
 *
 * Beyond the port, it lets a test play the queue's part: take a job for a run (its fence), lose
 * the run's lock, finish or fail a job, lose it, or plant one the queue cannot read.
 */
export interface MemoryRequestStore extends RequestStore {
  /** A run takes the job (as a worker would): active, with a fresh lock token, returned. */
  takeJob(jobId: string): string;
  /** The run's lock is gone (another worker may take the job). */
  loseLock(jobId: string): void;
  /** The queue ends the job's run: completed, failed (with a failure time), or back to waiting. */
  settleJob(jobId: string, state: "completed" | "failed" | "waiting", atMs?: number): void;
  /** The job is gone from the queue (removed by hand, lost in a failover); `orphan` keeps its data in no state. */
  loseJob(jobId: string, how?: "gone" | "orphan"): void;
  /** Adds a job as something other than a producer would (bad data, data the queue cannot read). */
  plantJob(job: { id: string; data: unknown; state?: JobState; unreadable?: boolean; finishedOn?: number }): void;
  /** The queue is paused for every worker (BullMQ's queue-wide pause), or resumed. */
  pauseQueue(paused: boolean): void;
  /** An outcome event is taken by a consumer (`active`), consumed, or parked (its consumer gave up). */
  settleOutcome(requestId: string, state: "active" | "consumed" | "parked"): void;
  /** What the store holds, for assertions. */
  readonly records: ReadonlyMap<string, RequestRecord & { revivals?: number }>;
  readonly outcomes: ReadonlyMap<string, OutcomeEvent>;
  readonly jobs: ReadonlyMap<string, Readonly<MemoryJob>>;
}

export interface MemoryJob {
  id: string;
  data: unknown;
  state: JobState | "orphan";
  attemptsMade: number;
  processedOn?: number;
  finishedOn?: number;
  lock?: string;
  unreadable?: boolean;
  /** When the job was added, ms (BullMQ's `timestamp`). */
  addedAt?: number;
  /** Order of entering its state: the lists' and sets' order (the oldest first). */
  seq?: number;
}

export interface MemoryRequestStoreOptions {
  /** The clock of record expiry, sweep leases and failure times. @defaultValue Date.now */
  now?: () => number;
  /** Completed request records are kept this long, s. @defaultValue 86400 */
  idempotencyRetentionSeconds?: number;
}

const NOT_STARTED = new Set<string>(["waiting", "delayed", "prioritized"]);
/** Byte order, as Redis orders members of equal score. */
const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const LIVE = new Set<string>(["waiting", "active", "delayed", "prioritized"]);

export function createMemoryRequestStore(options: MemoryRequestStoreOptions = {}): MemoryRequestStore {
  const now = options.now ?? Date.now;
  const retentionMs = (options.idempotencyRetentionSeconds ?? 86_400) * 1000;
  const records = new Map<string, RequestRecord & { revivals?: number; expiresAt?: number }>();
  const open = new Map<string, number>();
  const jobs = new Map<string, MemoryJob>();
  const outcomes = new Map<string, OutcomeEvent>();
  const outcomeStates = new Map<string, "active" | "consumed" | "parked">();
  const workerBeats = new Map<string, { beat: WorkerBeat; at: number; ttlMs: number }>();
  let queuePaused = false;
  let seq = 0;
  let lease: { holder: string; until: number } | undefined;
  let cursor: number | undefined;
  let tokens = 0;

  /** The record of a key as the store reads it: expired ones are gone; a taken queued one reads in_progress. */
  const recordOf = (key: string): RequestRecord | undefined => {
    const record = records.get(key);
    if (!record) return undefined;
    if (record.expiresAt !== undefined && record.expiresAt <= now()) {
      records.delete(key);
      return undefined;
    }
    const { expiresAt: _e, revivals: _r, ...plain } = record;
    const job = jobs.get(record.jobId);
    return record.state === "queued" && job?.processedOn !== undefined ? { ...plain, state: "in_progress" } : plain;
  };
  const jobMissing = (record: RequestRecord) => record.state !== "completed" && !jobs.has(record.jobId);

  /** Judges a batch in order, as the enqueue script does; throws on the first conflict, writes nothing. */
  function judge(items: readonly PreparedRequest[]) {
    const firstInBatch = new Map<string, PreparedRequest>();
    return items.map((item) => {
      const first = firstInBatch.get(item.idempotencyKey);
      if (first) {
        if (first.fp !== item.fp) {
          const conflict = {
            differences: differingFields(first.payload, item.payload),
            existingJobId: first.jobId,
            firstIndex: first.index,
          };
          return { item, verdict: "conflict" as const, ...conflict };
        }
        return { item, verdict: "repeat" as const, of: first };
      }
      const existing = recordOf(item.idempotencyKey);
      const judged = judgeSubmission(existing, item.fp, item.payload);
      if (judged.verdict === "conflict") {
        const conflict = { differences: judged.differences, existingJobId: judged.record.jobId };
        return { item, verdict: "conflict" as const, ...conflict };
      }
      if (judged.verdict === "duplicate") return { item, verdict: "duplicate" as const, record: judged.record };
      firstInBatch.set(item.idempotencyKey, item);
      return { item, verdict: "new" as const };
    });
  }

  function addJob(id: string, data: unknown): void {
    jobs.set(id, { id, data, state: "waiting", attemptsMade: 0, addedAt: now(), seq: ++seq });
  }

  function completeRecord(idempotencyKey: string, event: OutcomeEvent): void {
    const record = records.get(idempotencyKey);
    if (!record || record.jobId !== event.requestId) return;
    records.set(idempotencyKey, {
      ...record,
      state: "completed",
      outcome: JSON.stringify(event),
      completedAt: event.completedAt,
      expiresAt: now() + retentionMs,
    });
    open.delete(idempotencyKey);
  }

  function publishNow(event: OutcomeEvent, idempotencyKey: string | undefined): PublishResult {
    const record = idempotencyKey ? recordOf(idempotencyKey) : undefined;
    const mine = record?.jobId === event.requestId;
    if (mine && record?.state === "completed") return "already-published";
    if (!mine && outcomes.has(event.requestId)) return "already-published";
    outcomes.set(event.requestId, event);
    if (mine && idempotencyKey) completeRecord(idempotencyKey, event);
    return "published";
  }

  /**
   * A listing's entries of one source, in its order (request-query.ts): a state's jobs by when they
   * entered it (failed and completed: the most recently finished first), an invitation's requests
   * (jobs and outcomes) by creation time.
   */
  type Entry = { id: string; at: number };
  function entriesOf(source: ListPosition["source"], identifier: string | undefined): Entry[] {
    if (source === "identifier") {
      const ids = new Set([...jobs.keys(), ...outcomes.keys()]);
      return [...ids]
        .filter((id) => parseRequestJobId(id)?.identifier === identifier)
        .map((id) => ({ id, at: parseRequestJobId(id)!.createdMs }))
        .sort((a, b) => a.at - b.at || compare(a.id, b.id));
    }
    const finished = source === "failed" || source === "completed";
    return [...jobs.values()]
      .filter((j) => j.state === source)
      .map((j) => ({ id: j.id, at: finished ? (j.finishedOn ?? 0) : (j.seq ?? 0) }))
      .sort((a, b) => (finished ? b.at - a.at || compare(b.id, a.id) : a.at - b.at || compare(a.id, b.id)));
  }
  function isAfter(e: Entry, position: ListPosition, source: ListPosition["source"]): boolean {
    const at = Number(position.at);
    const descending = source === "failed" || source === "completed";
    if (e.at !== at) return descending ? e.at < at : e.at > at;
    return descending ? compare(e.id, position.id!) < 0 : compare(e.id, position.id!) > 0;
  }
  function listed(id: string): ListedRequest | undefined {
    const job = jobs.get(id);
    const outcome = outcomes.get(id) ?? null;
    if (!job || job.state === "orphan") return outcome ? { id, outcome } : undefined;
    return { id, job: { state: job.state, attemptsMade: job.attemptsMade }, outcome };
  }

  const store: MemoryRequestStore = {
    records,
    outcomes,
    jobs,

    async submit(items) {
      const judged = judge(items);
      const conflict = judged.find((j) => j.verdict === "conflict");
      if (conflict?.verdict === "conflict") {
        const { item } = conflict;
        throw new IdempotencyConflictError(
          item.idempotencyKey,
          conflict.differences,
          conflict.existingJobId,
          item.index,
          "firstIndex" in conflict ? conflict.firstIndex : undefined,
        );
      }
      const created = new Map<string, RequestRecord>();
      return judged.map((j): SubmissionResult => {
        if (j.verdict === "duplicate") {
          // A duplicate whose open record lost its job gets it back: no record without a job.
          if (jobMissing(j.record)) {
            addJob(j.record.jobId, {
              ...j.item.data,
              clientToken: j.record.clientToken,
              request: { ...j.item.data.request, correlationId: j.record.correlationId },
            } satisfies AcceptJobData);
          }
          return submissionResult(j.record, true);
        }
        if (j.verdict === "repeat") return submissionResult(created.get(j.of.idempotencyKey)!, true);
        const record = newRecord(j.item);
        records.set(j.item.idempotencyKey, record);
        open.set(j.item.idempotencyKey, Date.parse(record.createdAt) || now());
        addJob(j.item.jobId, j.item.data);
        created.set(j.item.idempotencyKey, record);
        return submissionResult(record, false);
      });
    },
    async preview(items) {
      return judge(items).map((j): ReservationPreview => {
        const key = j.item.idempotencyKey;
        switch (j.verdict) {
          case "conflict":
            return {
              verdict: "conflict",
              idempotencyKey: key,
              existingJobId: j.existingJobId,
              differences: j.differences,
              ...("firstIndex" in j && j.firstIndex !== undefined ? { firstIndex: j.firstIndex } : {}),
            };
          case "duplicate":
            return { verdict: "duplicate", idempotencyKey: key, jobId: j.record.jobId, state: j.record.state };
          case "repeat":
            return { verdict: "duplicate", idempotencyKey: key, jobId: j.of.jobId, state: "queued" as RecordState };
          default:
            return { verdict: "new", idempotencyKey: key };
        }
      });
    },

    exists: async (requestId) => outcomes.has(requestId),
    readOutcome: async (requestId) => outcomes.get(requestId),
    async publish(event, opts = {}) {
      const { fence } = opts;
      // A run whose token is no longer the lock's has lost the job: it publishes nothing.
      if (fence && jobs.get(fence.jobId)?.lock !== fence.token) return "fenced";
      return publishNow(event, opts.idempotencyKey);
    },
    async publishUnlessStarted(event, opts = {}) {
      // The outcome first: a request that has one answers with it, whatever its job's state now
      // (a second cancel at once finds the first's, not a job that the first removed).
      if (outcomes.has(event.requestId)) return "already-published";
      const job = jobs.get(event.requestId);
      if (job?.lock !== undefined) return { started: "active" };
      const state = job ? job.state : "unknown";
      if (!NOT_STARTED.has(state)) return { started: state };
      return publishNow(event, opts.idempotencyKey);
    },

    async job(requestId) {
      const job = jobs.get(requestId);
      if (!job || job.state === "orphan") return undefined;
      const started = job.processedOn !== undefined || job.attemptsMade > 0;
      return {
        id: job.id,
        data: job.data,
        attemptsMade: job.attemptsMade,
        state: job.state,
        started,
      } satisfies StoredJob;
    },
    async jobState(requestId) {
      const state = jobs.get(requestId)?.state;
      return state === undefined || state === "orphan" ? "unknown" : state;
    },
    async recordOfJob(jobId) {
      for (const key of records.keys()) {
        const record = recordOf(key);
        if (record?.jobId === jobId && record.state !== "completed") return record;
      }
      return undefined;
    },
    async rewriteJobData(jobId, data) {
      const job = jobs.get(jobId);
      if (job) job.data = data;
    },
    async removeJob(requestId) {
      const job = jobs.get(requestId);
      if (!job || job.lock !== undefined) return false;
      jobs.delete(requestId);
      return true;
    },

    async openRecords(beforeMs, limit) {
      return [...open.entries()]
        .filter(([, score]) => score <= beforeMs)
        .sort((a, b) => a[1] - b[1])
        .slice(0, limit)
        .map(([recordKey]) => ({ recordKey, record: recordOf(recordKey) }));
    },
    async forgetRecord(recordKey) {
      open.delete(recordKey);
    },
    async countRevival(recordKey) {
      const record = records.get(recordKey);
      if (!record) return 1;
      record.revivals = (record.revivals ?? 0) + 1;
      return record.revivals;
    },
    async jobStatus(jobId): Promise<JobStatus> {
      const job = jobs.get(jobId);
      if (!job) return "missing";
      if (job.state === "orphan") return "orphan";
      if (LIVE.has(job.state)) return "live";
      return job.state === "completed" || job.state === "failed" ? job.state : "missing";
    },
    async failedJobsSince(sinceMs, limit) {
      return [...jobs.values()]
        .filter((j) => j.state === "failed" && (j.finishedOn ?? 0) >= sinceMs)
        .sort((a, b) => (a.finishedOn ?? 0) - (b.finishedOn ?? 0))
        .slice(0, limit)
        .map(
          (j): FailedJob => ({
            jobId: j.id,
            data: j.data,
            attemptsMade: j.attemptsMade,
            finishedOn: j.finishedOn ?? 0,
          }),
        );
    },
    async reviveJob(jobId, status, data) {
      const job = jobs.get(jobId);
      if (status === "failed" && job?.state === "failed") {
        jobs.set(jobId, { id: jobId, data: job.data, state: "waiting", attemptsMade: 0, addedAt: now(), seq: ++seq });
        return;
      }
      addJob(jobId, data);
    },
    async repairUnreadableJobs() {
      const repaired: string[] = [];
      for (const job of jobs.values()) {
        if (!job.unreadable) continue;
        const record = await store.recordOfJob(job.id);
        job.data = record
          ? jobDataFromRecord(record)
          : { [UNPARSEABLE_JOB_MARKER]: { data: String(job.data).slice(0, 200), opts: null } };
        job.unreadable = false;
        repaired.push(job.id);
      }
      return repaired;
    },
    async completeRecord(idempotencyKey, outcome) {
      const record = recordOf(idempotencyKey);
      if (!record || record.jobId !== outcome.requestId || record.state === "completed") return false;
      completeRecord(idempotencyKey, outcome);
      return true;
    },
    async takeSweepLease(holder, ms) {
      // SET NX: taken while it lasts, by whoever holds it.
      if (lease && lease.until > now()) return false;
      lease = { holder, until: now() + ms };
      return true;
    },
    sweepCursor: async () => cursor,
    async setSweepCursor(ms) {
      cursor = ms;
    },

    async failedOutcomes(filter = {}) {
      const names = filter.errorNames && filter.errorNames.length > 0 ? new Set(filter.errorNames) : undefined;
      return [...outcomes.values()]
        .filter((e): e is FailedOutcome => e.type === "failed")
        .filter((e) => !names || names.has(e.error.name))
        .filter((e) => filter.sinceMs === undefined || Date.parse(e.completedAt) >= filter.sinceMs)
        .sort((a, b) => a.completedAt.localeCompare(b.completedAt) || a.requestId.localeCompare(b.requestId));
    },
    async close() {},

    async queueCounts(): Promise<QueueCounts> {
      const count = (state: string) => [...jobs.values()].filter((j) => j.state === state).length;
      const outcome = (state: "waiting" | "active" | "parked") =>
        [...outcomes.keys()].filter((id) => (outcomeStates.get(id) ?? "waiting") === state).length;
      return {
        requests: {
          waiting: count("waiting"),
          prioritized: count("prioritized"),
          delayed: count("delayed"),
          active: count("active"),
          completed: count("completed"),
          failed: count("failed"),
          paused: queuePaused,
        },
        outcomes: { waiting: outcome("waiting"), active: outcome("active"), parked: outcome("parked") },
      };
    },
    async oldestWaiting() {
      const [first] = [...jobs.values()]
        .filter((j) => j.state === "waiting")
        .sort((a, b) => (a.seq ?? 0) - (b.seq ?? 0));
      return first ? { id: first.id, enqueuedAtMs: first.addedAt ?? 0 } : undefined;
    },
    async failedWithoutOutcome(limit) {
      const newest = [...jobs.values()]
        .filter((j) => j.state === "failed")
        .sort((a, b) => (b.finishedOn ?? 0) - (a.finishedOn ?? 0) || b.id.localeCompare(a.id))
        .slice(0, limit);
      return { checked: newest.length, ids: newest.filter((j) => !outcomes.has(j.id)).map((j) => j.id) };
    },
    async listRequests(query) {
      const sources = listSources(query);
      let position = listPositionOf(query);
      let index = sources.indexOf(position.source);
      const items: ListedRequest[] = [];
      while (index < sources.length && items.length < query.limit) {
        const source = sources[index]!;
        const want = query.limit - items.length;
        const all = entriesOf(source, query.identifier);
        const after = position.id === undefined ? all : all.filter((e) => isAfter(e, position, source));
        for (const e of after.slice(0, want)) {
          const item = listed(e.id);
          if (!item) continue;
          if (query.catalog !== undefined && !item.id.startsWith(`${query.catalog}.`)) continue;
          if (query.identifier !== undefined && query.state !== undefined && item.job?.state !== query.state) continue;
          items.push(item);
        }
        const last = after.slice(0, want).at(-1);
        if (last) position = { source, at: last.at, id: last.id };
        if (after.length > want) break;
        index++;
        if (index < sources.length) position = { source: sources[index]! };
      }
      return { items, next: index < sources.length ? encodeListCursor(query, position) : null };
    },

    async beatWorker(beat, ttlMs) {
      workerBeats.set(beat.id, { beat: structuredClone(beat), at: now(), ttlMs });
    },
    async removeWorker(id) {
      workerBeats.delete(id);
    },
    async workers(limit) {
      const alive: WorkerPresence[] = [];
      for (const [id, w] of workerBeats) {
        if (w.at + w.ttlMs <= now()) workerBeats.delete(id);
        else alive.push({ ...structuredClone(w.beat), lastBeatAgoMs: now() - w.at });
      }
      return alive.sort((a, b) => a.lastBeatAgoMs - b.lastBeatAgoMs).slice(0, limit);
    },

    takeJob(jobId) {
      const job = jobs.get(jobId);
      if (!job) throw new Error(`no job ${jobId}`);
      const token = `run-${++tokens}`;
      Object.assign(job, { state: "active", lock: token, processedOn: job.processedOn ?? now(), seq: ++seq });
      return token;
    },
    pauseQueue(paused) {
      queuePaused = paused;
    },
    settleOutcome(requestId, state) {
      if (!outcomes.has(requestId)) throw new Error(`no outcome ${requestId}`);
      outcomeStates.set(requestId, state);
    },
    loseLock(jobId) {
      const job = jobs.get(jobId);
      if (job) delete job.lock;
    },
    settleJob(jobId, state, atMs = now()) {
      const job = jobs.get(jobId);
      if (!job) throw new Error(`no job ${jobId}`);
      delete job.lock;
      job.state = state;
      job.seq = ++seq;
      if (state === "failed") job.attemptsMade++;
      if (state !== "waiting") job.finishedOn = atMs;
    },
    loseJob(jobId, how = "gone") {
      const job = jobs.get(jobId);
      if (how === "gone" || !job) jobs.delete(jobId);
      else Object.assign(job, { state: "orphan", lock: undefined });
    },
    plantJob(job) {
      jobs.set(job.id, {
        id: job.id,
        data: job.data,
        state: job.state ?? "waiting",
        attemptsMade: 0,
        addedAt: now(),
        seq: ++seq,
        ...(job.unreadable ? { unreadable: true } : {}),
        ...(job.finishedOn !== undefined ? { finishedOn: job.finishedOn } : {}),
      });
    },
  };
  return store;
}
