import {
  encodeListCursor,
  type ListPosition,
  listPositionOf,
  listSources,
  type ListState,
  type RequestQuery,
} from "../request-query.js";
import type { JobState, ListedRequest, RequestPage } from "../request-store.js";
import { bullKey, identifierIndexKey } from "./keys.js";
import { readOutcomes, type QueuePair } from "./observe.js";

/**
 * Listings of requests on Redis (request-query.ts says what a listing is). Each page reads a
 * bounded number of entries whatever the queue holds, never the whole of a list or a set:
 *
 * - a list (waiting, active: BullMQ pushes new jobs at the head and workers take from the tail)
 *   is read from its tail. The cursor holds the offset from the tail of the page's last job and its
 *   id. Jobs taken meanwhile shift the offsets: the next page looks for that id within LIST_WINDOW
 *   entries around its offset (one LRANGE) and goes on after it. When it is not there (more than
 *   LIST_WINDOW jobs left the list meanwhile, or it was taken), the page starts again from the
 *   tail: requests may repeat, none still in the list is skipped.
 * - a sorted set (delayed, prioritized: next due first; failed, completed: newest first; an
 *   invitation's index: oldest first) is read by score: the cursor holds the last item's score and
 *   id, so a page goes on exactly after it whatever was added or removed meanwhile.
 *
 * Then each item's job hash (attempts made) and outcome are read in one pipeline; an item whose
 * job and outcome are both gone (retention, a removal) is left out.
 */

/** Entries looked through around a list cursor's offset to find where the previous page ended. */
export const LIST_WINDOW = 1000;
/** Rounds of reading past items that share the cursor's score (bounded: each round reads a page). */
const SAME_SCORE_ROUNDS = 20;
/** Reads of a source per page when a filter (identifier with state or catalog) leaves items out. */
const READS_PER_PAGE = 4;

export interface ListLocation extends QueuePair {
  /** The index of one invitation's requests (keys.ts identifierIndexKey). */
  identifierIndex?: (identifier: string) => string;
}

interface Entry {
  id: string;
  at: number | string;
}

export async function listRequests(loc: ListLocation, query: RequestQuery): Promise<RequestPage> {
  const sources = listSources(query);
  let position = listPositionOf(query);
  let index = sources.indexOf(position.source);
  const items: ListedRequest[] = [];
  let reads = 0;
  while (index < sources.length && items.length < query.limit && reads < READS_PER_PAGE * sources.length) {
    reads++;
    const source = sources[index]!;
    const { entries, more } = await readSource(loc, query, source, position, query.limit - items.length);
    const described = await describe(loc, source, entries);
    for (const item of described) if (item && kept(item, query)) items.push(item);
    const last = entries.at(-1);
    if (last) position = { source, at: last.at, id: last.id };
    if (!more) {
      index++;
      if (index < sources.length) position = { source: sources[index]! };
    }
  }
  return { items, next: index < sources.length ? encodeListCursor(query, position) : null };
}

/** A filter the source does not apply by itself: catalog, and state within an invitation's requests. */
function kept(item: ListedRequest, query: RequestQuery): boolean {
  if (query.catalog !== undefined && !item.id.startsWith(`${query.catalog}.`)) return false;
  if (query.identifier !== undefined && query.state !== undefined) return item.job?.state === query.state;
  return true;
}

async function readSource(
  loc: ListLocation,
  query: RequestQuery,
  source: ListPosition["source"],
  position: ListPosition,
  want: number,
): Promise<{ entries: Entry[]; more: boolean }> {
  const key = (s: string) => bullKey(loc.prefix, loc.requestsQueue, s);
  switch (source) {
    case "waiting":
      return readList(loc, key("wait"), position, want);
    case "active":
      return readList(loc, key("active"), position, want);
    case "delayed":
    case "prioritized":
      return readSortedSet(loc, key(source), position, want, "ascending");
    case "failed":
    case "completed":
      return readSortedSet(loc, key(source), position, want, "descending");
    case "identifier": {
      // The invitation's index, oldest first (a sorted set by creation time).
      const index = loc.identifierIndex ?? ((id: string) => identifierIndexKey(loc.prefix, loc.requestsQueue, id));
      return readSortedSet(loc, index(query.identifier!), position, want, "ascending");
    }
  }
}

/**
 * `want` entries of a list from its tail (offset 0: the job workers take next), after the
 * position's job, and whether more follow.
 */
async function readList(
  loc: ListLocation,
  key: string,
  position: ListPosition,
  want: number,
): Promise<{ entries: Entry[]; more: boolean }> {
  /** The entries at offsets from..to from the tail, tail first. */
  const range = async (from: number, to: number): Promise<Entry[]> => {
    const ids = await loc.redis.lrange(key, -(to + 1), -(from + 1));
    return ids.reverse().map((id, i) => ({ id, at: from + i }));
  };
  let entries: Entry[] | undefined;
  if (position.id !== undefined && typeof position.at === "number") {
    const from = Math.max(0, position.at - LIST_WINDOW);
    const around = await range(from, position.at + LIST_WINDOW + want);
    const found = around.findIndex((e) => e.id === position.id);
    if (found >= 0) entries = around.slice(found + 1, found + 1 + want + 1);
  }
  entries ??= await range(0, want);
  return { entries: entries.slice(0, want), more: entries.length > want };
}

/**
 * `want` members of a sorted set after the position's (score, id), in the set's order (by score,
 * then by id as Redis orders equal scores), and whether more follow.
 */
async function readSortedSet(
  loc: ListLocation,
  key: string,
  position: ListPosition,
  want: number,
  order: "ascending" | "descending",
): Promise<{ entries: Entry[]; more: boolean }> {
  const asc = order === "ascending";
  const hasCursor = position.id !== undefined && typeof position.at === "string";
  const from = hasCursor ? String(position.at) : asc ? "-inf" : "+inf";
  const to = asc ? "+inf" : "-inf";
  // Members of the cursor's score up to its id (included) were on earlier pages.
  const seen = (e: Entry) => hasCursor && e.at === position.at && (asc ? e.id <= position.id! : e.id >= position.id!);
  const entries: Entry[] = [];
  const count = hasCursor ? Math.max(want + 1, 100) : want + 1;
  let ended = false;
  for (let round = 0, offset = 0; round < SAME_SCORE_ROUNDS && !ended && entries.length <= want; round++) {
    const flat = asc
      ? await loc.redis.zrangebyscore(key, from, to, "WITHSCORES", "LIMIT", offset, count)
      : await loc.redis.zrevrangebyscore(key, from, to, "WITHSCORES", "LIMIT", offset, count);
    for (let i = 0; i < flat.length; i += 2) {
      const entry = { id: flat[i]!, at: flat[i + 1]! };
      if (!seen(entry)) entries.push(entry);
    }
    offset += count;
    ended = flat.length < count * 2;
  }
  return { entries: entries.slice(0, want), more: entries.length > want || !ended };
}

/** The page's items: each job's state and attempts, and its outcome. */
async function describe(
  loc: ListLocation,
  source: ListPosition["source"],
  entries: readonly Entry[],
): Promise<Array<ListedRequest | undefined>> {
  if (entries.length === 0) return [];
  const ids = entries.map((e) => e.id);
  const key = (s: string) => bullKey(loc.prefix, loc.requestsQueue, s);
  const read = loc.redis.pipeline();
  for (const id of ids) {
    read.hmget(key(id), "atm", "timestamp");
    // An invitation's index says nothing of where each job is: ask each set (the active list is short).
    if (source === "identifier") {
      read.zscore(key("completed"), id);
      read.zscore(key("failed"), id);
      read.zscore(key("delayed"), id);
      read.zscore(key("prioritized"), id);
      read.lpos(key("active"), id);
    }
  }
  const [replies, outcomes] = await Promise.all([read.exec(), readOutcomes(loc, ids)]);
  const per = source === "identifier" ? 6 : 1;
  return ids.map((id, i): ListedRequest | undefined => {
    const at = (k: number) => replies?.[i * per + k]?.[1];
    const [atm, timestamp] = (at(0) as Array<string | null> | undefined) ?? [null, null];
    const outcome = outcomes[i] ?? null;
    if (timestamp === null || timestamp === undefined) return outcome ? { id, outcome } : undefined;
    const state: JobState =
      source !== "identifier"
        ? (source satisfies ListState)
        : at(1) !== null
          ? "completed"
          : at(2) !== null
            ? "failed"
            : at(3) !== null
              ? "delayed"
              : at(4) !== null
                ? "prioritized"
                : at(5) !== null
                  ? "active"
                  : "waiting";
    return { id, job: { state, attemptsMade: Number(atm ?? 0) || 0 }, outcome };
  });
}
