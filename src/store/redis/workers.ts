import type { WorkerBeat, WorkerPresence } from "../request-store.js";
import type { RedisConnection } from "./connection.js";
import { workerBeatKey, workersIndexKey } from "./keys.js";

/**
 * The fleet's workers in Redis. Each worker process writes its beat (who it is, its limits, the
 * fault it is paused for) every few seconds as a string key with a TTL of a few beats
 * (workerBeatKey), and its id in the index (workersIndexKey, scored by the beat's wall-clock time).
 *
 * Whether a worker is alive is the key's TTL, kept by Redis: no clock of another machine is
 * compared with ours, and a process that died or hangs (stops beating) drops out by itself. How
 * long ago it beat is its TTL's length minus what is left of it (PTTL). Index entries whose key is
 * gone are skipped by readers and cut by the writers' beats once an hour old (ZREMRANGEBYSCORE:
 * the index never grows past the workers of the last hour).
 *
 * Why not BullMQ's Queue.getWorkers(): it lists connections (CLIENT LIST) by their client name,
 * which managed Redis services and ACLs may refuse (CLIENT, SETNAME), which sees one node of a
 * Cluster, where a hung process with an open connection looks alive, and which says nothing of
 * the fault a worker is paused for.
 */

/** Index entries older than this are cut by the next beat of any worker. */
const INDEX_KEEP_MS = 60 * 60_000;

interface StoredBeat extends WorkerBeat {
  /** The TTL the beat was written with (lastBeatAgoMs = ttlMs - PTTL). */
  ttlMs: number;
}

export interface WorkerKeys {
  redis: RedisConnection;
  prefix: string;
  queueName: string;
}

export async function beatWorker(w: WorkerKeys, beat: WorkerBeat, ttlMs: number): Promise<void> {
  const ttl = Math.max(1, Math.round(ttlMs));
  const now = Date.now();
  const index = workersIndexKey(w.prefix, w.queueName);
  const stored: StoredBeat = { ...beat, ttlMs: ttl };
  const replies = await w.redis
    .multi()
    .set(workerBeatKey(w.prefix, w.queueName, beat.id), JSON.stringify(stored), "PX", ttl)
    .zadd(index, now, beat.id)
    .zremrangebyscore(index, "-inf", now - INDEX_KEEP_MS)
    .exec();
  const failed = replies?.find(([err]) => err);
  if (failed) throw failed[0];
}

export async function removeWorker(w: WorkerKeys, id: string): Promise<void> {
  await w.redis
    .multi()
    .del(workerBeatKey(w.prefix, w.queueName, id))
    .zrem(workersIndexKey(w.prefix, w.queueName), id)
    .exec();
}

/** The workers whose beat key still exists, the most recent beats first, at most `limit` looked at. */
export async function listWorkers(w: WorkerKeys, limit: number): Promise<WorkerPresence[]> {
  const ids = await w.redis.zrevrange(workersIndexKey(w.prefix, w.queueName), 0, Math.max(0, limit - 1));
  if (ids.length === 0) return [];
  const read = w.redis.pipeline();
  for (const id of ids) {
    const key = workerBeatKey(w.prefix, w.queueName, id);
    read.get(key);
    read.pttl(key);
  }
  const replies = (await read.exec()) ?? [];
  const workers: WorkerPresence[] = [];
  ids.forEach((_, i) => {
    const json = replies[2 * i]?.[1];
    const pttl = Number(replies[2 * i + 1]?.[1]);
    if (typeof json !== "string" || !(pttl > 0)) return;
    let stored: StoredBeat;
    try {
      stored = JSON.parse(json) as StoredBeat;
    } catch {
      return;
    }
    const { ttlMs, ...beat } = stored;
    workers.push({ ...beat, lastBeatAgoMs: Math.max(0, (Number(ttlMs) || 0) - pttl) });
  });
  return workers;
}
