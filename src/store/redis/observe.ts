import type { OutcomeEvent } from "../../contracts/outcome.js";
import type { QueueCounts } from "../request-store.js";
import type { RedisConnection } from "./connection.js";
import { bullKey } from "./keys.js";

/**
 * What the status read model reads of BullMQ's queues, by their layout (keys.ts bullKey): the
 * lists and sorted sets of each state, the queue's meta hash, a job's hash fields (`timestamp`:
 * when it was added, ms; `atm`: attempts made) and an outcome job's `data` (the event's JSON).
 * test/integration/status.test.ts checks each figure against a real BullMQ.
 */
export interface QueuePair {
  redis: RedisConnection;
  prefix: string;
  requestsQueue: string;
  outcomesQueue: string;
}

/** Every count in one MULTI: a snapshot (a job moving between two states is counted once). */
export async function queueCounts(q: QueuePair): Promise<QueueCounts> {
  const req = (s: string) => bullKey(q.prefix, q.requestsQueue, s);
  const out = (s: string) => bullKey(q.prefix, q.outcomesQueue, s);
  const replies = await q.redis
    .multi()
    .llen(req("wait"))
    .zcard(req("prioritized"))
    .zcard(req("delayed"))
    .llen(req("active"))
    .zcard(req("completed"))
    .zcard(req("failed"))
    .hexists(req("meta"), "paused")
    .llen(out("wait"))
    .llen(out("active"))
    .zcard(out("failed"))
    .exec();
  const n = (i: number): number => {
    const [err, value] = replies?.[i] ?? [new Error("no reply"), null];
    if (err) throw err;
    return Number(value) || 0;
  };
  return {
    requests: {
      waiting: n(0),
      prioritized: n(1),
      delayed: n(2),
      active: n(3),
      completed: n(4),
      failed: n(5),
      paused: n(6) === 1,
    },
    outcomes: { waiting: n(7), active: n(8), parked: n(9) },
  };
}

/**
 * The job at the taking end of the wait list (workers take from its tail: the oldest) and when it
 * was added. A job taken between the two reads is skipped: the next one is read, a few times at most.
 */
export async function oldestWaiting(q: QueuePair): Promise<{ id: string; enqueuedAtMs: number } | undefined> {
  for (let tries = 0; tries < 5; tries++) {
    const id = await q.redis.lindex(bullKey(q.prefix, q.requestsQueue, "wait"), -1);
    if (id === null) return undefined;
    const timestamp = await q.redis.hget(bullKey(q.prefix, q.requestsQueue, id), "timestamp");
    if (timestamp !== null) return { id, enqueuedAtMs: Number(timestamp) };
  }
  return undefined;
}

/** The newest `limit` failed request jobs (by failure time), and those of them whose outcome event does not exist. */
export async function failedWithoutOutcome(q: QueuePair, limit: number): Promise<{ checked: number; ids: string[] }> {
  const ids = await q.redis.zrevrange(bullKey(q.prefix, q.requestsQueue, "failed"), 0, Math.max(0, limit - 1));
  if (ids.length === 0) return { checked: 0, ids: [] };
  const read = q.redis.pipeline();
  for (const id of ids) read.exists(bullKey(q.prefix, q.outcomesQueue, id));
  const exists = (await read.exec()) ?? [];
  return { checked: ids.length, ids: ids.filter((_, i) => Number(exists[i]?.[1]) !== 1) };
}

/** The outcome event of each request id (null where there is none, or where its data is not JSON). */
export async function readOutcomes(q: QueuePair, ids: readonly string[]): Promise<Array<OutcomeEvent | null>> {
  if (ids.length === 0) return [];
  const read = q.redis.pipeline();
  for (const id of ids) read.hget(bullKey(q.prefix, q.outcomesQueue, id), "data");
  const replies = (await read.exec()) ?? [];
  return ids.map((_, i) => {
    const data = replies[i]?.[1];
    if (typeof data !== "string") return null;
    try {
      return JSON.parse(data) as OutcomeEvent;
    } catch {
      return null;
    }
  });
}
