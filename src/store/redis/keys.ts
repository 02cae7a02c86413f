import { hash } from "node:crypto";

/**
 * Every Redis key of pc-invitations outside BullMQ's own queue keys and the rate limiter's
 * (ratelimit/limit-settings.ts rateLimitRedisKey). All live under the queue prefix, so one hash
 * tag covers them on Redis Cluster. Nothing outside src/store names a key.
 */

/**
 * BullMQ's lock of a job: the string key `<prefix>:<queue>:<jobId>:lock`, holding the token of the
 * worker run that owns the job (the `token` a processor receives) for `lockDuration` ms, renewed
 * while the run lives. A run whose token is no longer there has lost the job to another worker.
 *
 * This is BullMQ's internal layout, not its API: test/integration/job-lock.test.ts fails if a
 * BullMQ upgrade moves it, because the outcome fence (lua/publish-outcome.lua) reads this key and
 * a cancel (publish.ts publishUnlessStarted) WATCHes it.
 */
export function jobLockKey(prefix: string, queueName: string, jobId: string): string {
  return `${prefix}:${queueName}:${jobId}:lock`;
}

/**
 * Redis key of a request record, inside the queue prefix so one hash tag covers it on Redis
 * Cluster. The caller's key is hashed: any length or character set stays a short, safe key.
 */
export function idempotencyRecordKey(prefix: string, queueName: string, idempotencyKey: string): string {
  return `${prefix}:${queueName}:idem:${hash("sha256", idempotencyKey, "base64url")}`;
}

/**
 * The index of open records (queued or in progress) of a requests queue: a sorted set of record
 * keys by creation time, kept by the record scripts, read by the sweeper. Derived from a record
 * key, so a record and its index always share the prefix (and the Cluster slot).
 */
export function openRecordsKey(recordKey: string): string {
  return `${recordKey.slice(0, recordKey.lastIndexOf(":idem:"))}:idem-open`;
}

/** The open-records index of a requests queue. */
export function openRecordsKeyOf(prefix: string, queueName: string): string {
  return `${prefix}:${queueName}:idem-open`;
}

/** The sweeper's lease (one sweeping process of the fleet at a time) and its failed-jobs cursor. */
export function sweeperKeys(prefix: string, queueName: string): { lease: string; cursor: string } {
  return { lease: `${prefix}:${queueName}:sweeper-lease`, cursor: `${prefix}:${queueName}:sweeper-cursor` };
}

/** The discovery schedule's lock (one scheduler changes the fleet's schedule at a time). */
export function scheduleLockKey(prefix: string, queueName: string): string {
  return `${prefix}:${queueName}:schedule-lock`;
}

/**
 * A key in the queue prefix's slot that the start-up write probe names but never writes
 * (connection.ts probeWrites).
 */
export function writeProbeKey(prefix: string): string {
  return `${prefix}:write-probe`;
}

/** A worker process's own probe key: a short-lived SET that a full Redis refuses (write-gate.ts). */
export function processProbeKey(prefix: string, host: string, pid: number): string {
  return `${prefix}:probe:${host}:${pid}`;
}

/**
 * A key of BullMQ's layout for a queue: `<prefix>:<queue>:<suffix>`: a job's hash when `suffix` is
 * its id, the queue's lists and sets (`wait`, `active`, `delayed`, `prioritized`, `completed`,
 * `failed`) and its `meta` hash otherwise. BullMQ's Queue.toKey makes the same; this one needs no
 * queue handle (the read side reads the outcomes queue without opening it).
 */
export function bullKey(prefix: string, queueName: string, suffix: string): string {
  return `${prefix}:${queueName}:${suffix}`;
}

/**
 * An invitation's requests: a sorted set of the job ids made for that identifier (in any
 * catalog), by creation time (ms), written with each new job (lua/enqueue.lua, reserve.ts) and
 * forgotten `identifierIndexTtlMs` after the last one (list-requests.ts reads it).
 */
export function identifierIndexKey(prefix: string, queueName: string, identifier: string): string {
  return `${prefix}:${queueName}:by-identifier:${identifier}`;
}

/** The fleet's workers: a sorted set of worker ids by the time of their last beat (workers.ts). */
export function workersIndexKey(prefix: string, queueName: string): string {
  return `${prefix}:${queueName}:workers`;
}

/** One worker's beat: a string (JSON) with a TTL of a few beats (workers.ts). */
export function workerBeatKey(prefix: string, queueName: string, workerId: string): string {
  return `${prefix}:${queueName}:worker:${workerId}`;
}

/**
 * The outcome log of an outcomes queue: a Redis stream with one entry per published event
 * (outcomes and notices), appended in the same script or MULTI as the publication
 * (lua/includes/append-log.lua), trimmed by age (MINID ~ now − IDEMPOTENCY_RETENTION_SECONDS).
 * Read without consuming (outcome-log.ts readEvents) and by the `deliver` sinks' consumer groups.
 */
export function outcomeLogKey(prefix: string, outcomesQueueName: string): string {
  return `${prefix}:${outcomesQueueName}:log`;
}

/** The lease of an event sink of the `deliver` fleet (one holder at a time reads its group). */
export function sinkLeaseKey(prefix: string, outcomesQueueName: string, sink: string): string {
  return `${prefix}:${outcomesQueueName}:sink-lease:${sink}`;
}

/**
 * The base of the webhooks' keys (redis/webhook-store.ts, lua/webhook-*.lua), all in the queue
 * prefix's slot: `<base>:eps` (a set of endpoint ids), `<base>:ep:<id>` (a hash: the endpoint),
 * `<base>:due` (a sorted set: `<id>:<orderKey>` by when its queue's head is due, ms),
 * `<base>:q:<id>:<orderKey>` (a list: one invitation's deliveries to one endpoint, in order),
 * `<base>:lists:<id>` (a set: the orderKeys of its queues), `<base>:seen:<id>` (a sorted set: event
 * ids fanned out, by time), `<base>:tat` (a hash: each endpoint's rate limit state),
 * `<base>:log:<id>` (a stream: its delivery attempts). The Lua scripts build these from the base,
 * as BullMQ's scripts build theirs from the queue's.
 */
export function webhookKeyBase(prefix: string, outcomesQueueName: string): string {
  return `${prefix}:${outcomesQueueName}:wh`;
}

/**
 * The mark that an invitation ended (canceled, expired) before a request for it was seen, written by
 * the event intake (invitation-ends.ts): a string key per invitation, kept for the idempotency
 * retention. The id is hashed, like a record key, so any catalog or id stays a short, safe key.
 */
export function invitationEndKey(prefix: string, catalog: string, identifier: string): string {
  return `${prefix}:invitation-end:${hash("sha256", `${catalog}\u0000${identifier}`, "base64url")}`;
}

/**
 * The access model's keys (redis/access.ts): named tokens (a hash name → record, and a hash
 * digest → name for the lookup of each request), people (a hash name → record), and one string
 * per session, by the digest of its id, with a TTL (its expiry).
 */
export function accessKeys(prefix: string): { tokens: string; tokenDigests: string; users: string } {
  return {
    tokens: `${prefix}:access:tokens`,
    tokenDigests: `${prefix}:access:token-digests`,
    users: `${prefix}:access:users`,
  };
}
export function sessionKey(prefix: string, digest: string): string {
  return `${prefix}:access:session:${digest}`;
}

/**
 * The held invitations' keys (held.ts): one hash per invitation, the open index of all of them and
 * of each catalog (sorted sets of positions, walked by ZRANGEBYLEX: held-store.ts heldPosition),
 * each catalog's last-seen index (identifier by last seen, ms), the due-for-expiring-notice index,
 * and a notice's claim (one string per eventId, lua/publish-notice.lua).
 */
export function heldKeys(prefix: string, queueName: string) {
  const base = `${prefix}:${queueName}:held`;
  return {
    record: (catalog: string, identifier: string) => `${base}:inv:${catalog}.${identifier}`,
    open: `${base}:open`,
    openCatalog: (catalog: string) => `${base}:open:${catalog}`,
    seenCatalog: (catalog: string) => `${base}:seen:${catalog}`,
    expiringDue: `${base}:expiring-due`,
    noticeClaim: (eventId: string) => `${base}:notice:${eventId}`,
  };
}
