import { Queue } from "bullmq";
import type { Notice } from "../../contracts/notice.js";
import {
  type ClosedHeldState,
  encodeHeldCursor,
  HELD_STATES,
  type HeldDecision,
  type HeldInvitation,
  type HeldSighting,
  type HeldState,
  type HeldStore,
  heldPosition,
  heldStartOf,
  type InvitationRef,
  positionAfter,
  type SightingResult,
} from "../held-store.js";
import type { QueueLocation } from "../queue-location.js";
import { addJobArguments } from "./bullmq-add.js";
import type { RedisConnection } from "./connection.js";
import { heldKeys, outcomeLogKey } from "./keys.js";
import { logEntryArgs, logMinId } from "./outcome-log.js";
import { CONFIG_DEFAULTS } from "../../schemas/config.js";
import { runScript } from "./lua-scripts.js";
import { OUTCOME_ATTEMPTS } from "./publish.js";
import { SCRIPTS } from "./scripts.js";

/** A closed held record is kept this long, s (30 days): `decide` answers with how it ended. */
export const HELD_CLOSED_RETENTION_SECONDS = 30 * 86_400;
/** A notice's claim is kept this long, s (90 days: longer than an invitation stays open). */
export const NOTICE_CLAIM_SECONDS = 90 * 86_400;
/** Sightings per script call (a discovery's page is at most 100). */
const RECORD_BATCH = 100;

export interface RedisHeldStoreOptions {
  /** A connection of the caller's; never closed by the store. */
  connection: RedisConnection;
  location: QueueLocation;
  /** Consumed notices are kept this long on the outcomes queue, s (RETENTION_SECONDS, as outcomes). */
  outcomeRetentionSeconds: number;
  /** The outcome log's retention, s (IDEMPOTENCY_RETENTION_SECONDS). @defaultValue its default, 86400 */
  logRetentionSeconds?: number;
}

export interface RedisHeldStore extends HeldStore {
  close(): Promise<void>;
}

/**
 * The held invitations in Redis (held-store.ts's promises): one hash per invitation and the
 * indexes of keys.ts heldKeys; every write that judges a state is one script (lua/record-held.lua,
 * lua/close-held.lua), a notice's claim and publication another (lua/publish-notice.lua).
 */
export function createRedisHeldStore(opts: RedisHeldStoreOptions): RedisHeldStore {
  const redis = opts.connection;
  const keys = heldKeys(opts.location.prefix, opts.location.requestsQueue);
  let outcomes: Queue | undefined;
  // A handle on the outcomes queue only to build BullMQ's add arguments (its keys and options).
  const outcomesQueue = () => {
    if (!outcomes) {
      outcomes = new Queue(opts.location.outcomesQueue, {
        connection: redis,
        prefix: opts.location.prefix,
        skipMetasUpdate: true,
      });
      outcomes.on("error", () => {});
    }
    return outcomes;
  };

  async function readRecords(refs: readonly InvitationRef[]): Promise<HeldInvitation[]> {
    if (refs.length === 0) return [];
    const pipeline = redis.pipeline();
    for (const r of refs) pipeline.hgetall(keys.record(r.catalog, r.identifier));
    const replies = (await pipeline.exec()) ?? [];
    const out: HeldInvitation[] = [];
    for (const [err, hash] of replies) {
      if (err) throw err;
      const record = toHeld(hash as Record<string, string>);
      if (record) out.push(record);
    }
    return out;
  }

  return {
    async recordHeld(sightings: readonly HeldSighting[]): Promise<SightingResult[]> {
      const results: SightingResult[] = [];
      for (let i = 0; i < sightings.length; i += RECORD_BATCH) {
        const batch = sightings.slice(i, i + RECORD_BATCH);
        const k = [keys.open, keys.expiringDue];
        const a: string[] = ["11"];
        for (const s of batch) {
          k.push(keys.record(s.catalog, s.identifier), keys.openCatalog(s.catalog), keys.seenCatalog(s.catalog));
          a.push(
            s.catalog,
            s.identifier,
            s.otherParticipantIdentifier ?? "",
            s.connectionType ?? "",
            s.inviterEmail ?? "",
            s.expiresAt ?? "",
            s.rule === null ? "" : String(s.rule),
            s.policyHash,
            s.seenAt,
            String(Date.parse(s.seenAt)),
            heldPosition(s.expiresAt, s.catalog, s.identifier),
          );
        }
        results.push(...((await runScript(redis, SCRIPTS.recordHeld, k, a)) as SightingResult[]));
      }
      return results;
    },

    async touchHeld(refs: readonly InvitationRef[], seenAt: string): Promise<void> {
      if (refs.length === 0) return;
      const ms = Date.parse(seenAt);
      // Only an open record is in its catalog's last-seen index (XX: never added back once closed).
      const pipeline = redis.pipeline();
      for (const r of refs) pipeline.zadd(keys.seenCatalog(r.catalog), "XX", "CH", ms, r.identifier);
      const changed = (await pipeline.exec()) ?? [];
      const stamp = redis.pipeline();
      refs.forEach((r, i) => {
        if (changed[i]?.[1] === 1) stamp.hset(keys.record(r.catalog, r.identifier), "lastSeenAt", seenAt);
      });
      if (stamp.length > 0) await stamp.exec();
    },

    async closeHeld(ref: InvitationRef, state: ClosedHeldState, at: string, decision?: HeldDecision) {
      const [answer, flat] = (await runScript(
        redis,
        SCRIPTS.closeHeld,
        [
          keys.record(ref.catalog, ref.identifier),
          keys.open,
          keys.openCatalog(ref.catalog),
          keys.seenCatalog(ref.catalog),
          keys.expiringDue,
        ],
        [
          state,
          at,
          state === "decided" && decision ? JSON.stringify(decision) : "",
          String(HELD_CLOSED_RETENTION_SECONDS),
          ref.identifier,
        ],
      )) as [string, string[]];
      if (answer === "pci:none") return undefined;
      const record = toHeld(Object.fromEntries(pairs(flat)));
      if (!record) return undefined;
      return { closed: answer === "pci:closed", record };
    },

    async getHeld(ref: InvitationRef) {
      return (await readRecords([ref]))[0];
    },

    async listHeld(query) {
      const start = heldStartOf(query);
      const index = query.catalog === undefined ? keys.open : keys.openCatalog(query.catalog);
      const positions = await redis.zrangebylex(
        index,
        start === undefined ? "-" : `(${start}`,
        "+",
        "LIMIT",
        0,
        query.limit + 1,
      );
      const page = positions.slice(0, query.limit);
      const items = await readRecords(page.map(refOfPosition));
      return {
        items,
        next: positions.length > query.limit ? encodeHeldCursor(page.at(-1)!, query.catalog) : null,
      };
    },

    async unseenHeld(catalog: string, beforeMs: number, limit: number) {
      const ids = await redis.zrangebyscore(keys.seenCatalog(catalog), "-inf", `(${beforeMs}`, "LIMIT", 0, limit);
      return ids.map((identifier) => ({ catalog, identifier }));
    },

    async dueForExpiringNotice(beforeMs: number, limit: number) {
      const positions = await redis.zrangebylex(
        keys.expiringDue,
        "-",
        `(${positionAfter(beforeMs)}`,
        "LIMIT",
        0,
        limit,
      );
      const records = await readRecords(positions.map(refOfPosition));
      return records.filter((r) => r.state === "held");
    },

    async markExpiringNoticed(ref: InvitationRef) {
      const position = await redis.hget(keys.record(ref.catalog, ref.identifier), "position");
      if (position) await redis.zrem(keys.expiringDue, position);
    },

    async expiredHeld(nowMs: number, limit: number) {
      const positions = await redis.zrangebylex(keys.open, "-", `(${positionAfter(nowMs - 1)}`, "LIMIT", 0, limit);
      return positions.map(refOfPosition);
    },

    async publishNotice(notice: Notice) {
      const queue = outcomesQueue();
      const bull = addJobArguments(queue, {
        name: notice.type,
        data: notice,
        opts: {
          attempts: OUTCOME_ATTEMPTS,
          backoff: { type: "outcome" },
          removeOnComplete: { age: opts.outcomeRetentionSeconds },
          removeOnFail: false,
        },
        jobId: notice.eventId,
      });
      const answer = await runScript(
        redis,
        SCRIPTS.publishNotice,
        [
          ...bull.keys,
          keys.noticeClaim(notice.eventId),
          outcomeLogKey(opts.location.prefix, opts.location.outcomesQueue),
        ],
        [
          ...bull.args,
          String(NOTICE_CLAIM_SECONDS),
          notice.at,
          logMinId(opts.logRetentionSeconds ?? CONFIG_DEFAULTS.IDEMPOTENCY_RETENTION_SECONDS),
          // kind is the script's own ('notice'): the entry's other fields and the notice JSON.
          ...logEntryArgs("notice", notice).slice(1),
        ],
      );
      return answer === "pci:already-sent" ? "already-sent" : "published";
    },

    async close() {
      await outcomes?.close().catch(() => {});
    },
  };
}

/** `<position>` → the invitation it names (held-store.ts heldPosition). */
function refOfPosition(position: string): InvitationRef {
  const names = position.slice(position.indexOf("|") + 1);
  const dot = names.indexOf(".");
  return { catalog: names.slice(0, dot), identifier: names.slice(dot + 1) };
}

function pairs(flat: string[]): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (let i = 0; i + 1 < flat.length; i += 2) out.push([flat[i]!, flat[i + 1]!]);
  return out;
}

/** A record's hash → HeldInvitation; undefined for no hash or one that is not a record. */
function toHeld(hash: Record<string, string> | null | undefined): HeldInvitation | undefined {
  if (!hash?.catalog || !hash.identifier || !HELD_STATES.includes(hash.state as HeldState)) return undefined;
  const orNull = (v: string | undefined) => (v === undefined || v === "" ? null : v);
  let decision: HeldDecision | null = null;
  if (hash.decision) {
    try {
      decision = JSON.parse(hash.decision) as HeldDecision;
    } catch {
      decision = null;
    }
  }
  return {
    catalog: hash.catalog,
    identifier: hash.identifier,
    otherParticipantIdentifier: orNull(hash.otherParticipantIdentifier),
    connectionType: orNull(hash.connectionType),
    inviterEmail: orNull(hash.inviterEmail),
    expiresAt: orNull(hash.expiresAt),
    rule: hash.rule ? Number(hash.rule) : null,
    policyHash: hash.policyHash ?? "",
    state: hash.state as HeldState,
    firstSeenAt: hash.firstSeenAt ?? hash.lastSeenAt ?? "",
    lastSeenAt: hash.lastSeenAt ?? "",
    closedAt: orNull(hash.closedAt),
    decision,
  };
}
