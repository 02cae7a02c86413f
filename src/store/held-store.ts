import { z } from "zod";
import type { Notice } from "../contracts/notice.js";
import { ListQueryError } from "../errors/index.js";
import { catalogSchema } from "../schemas/request-fields.js";
import { type FieldIssue, toFieldIssues } from "../schemas/issues.js";
import { cursorParamSchema, limitParamSchema } from "./request-query.js";

/**
 * The held invitations: the invitations a discovery policy held ("wait for a person"), from the
 * first time one is held until a person decides on it here, or it is accepted or rejected
 * elsewhere, canceled or expired. The port its callers speak (src/app/held.ts, discovery); the
 * Redis implementation (redis/held.ts, lua/record-held.lua, lua/close-held.lua,
 * lua/publish-notice.lua) keeps every key, memory-held-store.ts the same promises in memory.
 *
 * The promises:
 * - one record per invitation (catalog, identifier); a sighting never reopens a closed record
 *   (a decided invitation held again by a discovery stays decided);
 * - `closeHeld` moves a record out of `held` once: the first close wins, later ones see it;
 * - open records are listed by expiry (soonest first), in bounded pages whose cursor never skips
 *   a record that stayed open between two pages;
 * - a notice is published at most once per eventId (an atomic claim with the job's add).
 */
export const HELD_STATES = [
  /** Waits for a person. */
  "held",
  /** A person (or a later policy) decided here: a request was enqueued. */
  "decided",
  /** Found ACCEPTED without a decision here. */
  "accepted-elsewhere",
  /** Found REJECTED without a decision here. */
  "rejected-elsewhere",
  /** The inviter canceled it. */
  "canceled",
  /** Its ExpiresAt passed (or AWS said EXPIRED). */
  "expired",
] as const;
export type HeldState = (typeof HELD_STATES)[number];
export type ClosedHeldState = Exclude<HeldState, "held">;

/** What a discovery (or an event) saw of an invitation it held. */
export interface HeldSighting {
  catalog: string;
  identifier: string;
  otherParticipantIdentifier: string | null;
  connectionType: string | null;
  /** Read with GetConnectionInvitation when a rule needed it; null otherwise. */
  inviterEmail: string | null;
  /** ISO-8601, when AWS said. */
  expiresAt: string | null;
  /** Index of the rule that held it; null: the policy's default. */
  rule: number | null;
  policyHash: string;
  /** ISO-8601. */
  seenAt: string;
}

/** A decision made here (state `decided`). */
export interface HeldDecision {
  action: "accept" | "reject";
  reason?: string;
  decidedBy: string;
  /** The request enqueued for it. */
  requestId: string;
}

export interface HeldInvitation {
  catalog: string;
  identifier: string;
  otherParticipantIdentifier: string | null;
  connectionType: string | null;
  inviterEmail: string | null;
  expiresAt: string | null;
  rule: number | null;
  policyHash: string;
  state: HeldState;
  firstSeenAt: string;
  lastSeenAt: string;
  /** When it left `held`; null while held. */
  closedAt: string | null;
  /** The decision made here, for `decided`. */
  decision: HeldDecision | null;
}

/** What a sighting did: a new record, an open one seen again, or a closed one left as it was. */
export type SightingResult = "new" | "seen" | "closed";

/** A page of open held invitations, soonest expiry first, and the cursor of the next one (null: no more). */
export interface HeldPage {
  items: HeldInvitation[];
  next: string | null;
}

export interface HeldQuery {
  catalog?: string;
  cursor?: string;
  limit: number;
}

/** An invitation by its two names. */
export interface InvitationRef {
  catalog: string;
  identifier: string;
}

export interface HeldStore {
  /**
   * Records each sighting, in order: a new record (`held`, first and last seen now), an open one
   * seen again (last seen and details updated), or a closed one (nothing changed).
   */
  recordHeld(sightings: readonly HeldSighting[]): Promise<SightingResult[]>;
  /** Marks open records as seen at `seenAt` (a read found them still pending); closed ones are left. */
  touchHeld(refs: readonly InvitationRef[], seenAt: string): Promise<void>;
  /**
   * Closes an open record as `state` (with the decision, for `decided`) at `at`. `closed: true`
   * when this call closed it; false when it was closed already (the record says how); undefined
   * when there is no record.
   */
  closeHeld(
    ref: InvitationRef,
    state: ClosedHeldState,
    at: string,
    decision?: HeldDecision,
  ): Promise<{ closed: boolean; record: HeldInvitation } | undefined>;
  getHeld(ref: InvitationRef): Promise<HeldInvitation | undefined>;
  /** A page of open records. @throws ListQueryError for a cursor of another query */
  listHeld(query: HeldQuery): Promise<HeldPage>;
  /** Open records of `catalog` last seen before `beforeMs`, least recently seen first, at most `limit`. */
  unseenHeld(catalog: string, beforeMs: number, limit: number): Promise<InvitationRef[]>;
  /** Open records whose ExpiresAt is at or before `beforeMs` and whose expiring notice is not marked sent. */
  dueForExpiringNotice(beforeMs: number, limit: number): Promise<HeldInvitation[]>;
  /** The expiring notice of an open record went out: it is no longer due. */
  markExpiringNoticed(ref: InvitationRef): Promise<void>;
  /** Open records whose ExpiresAt is before `nowMs`, soonest first, at most `limit`. */
  expiredHeld(nowMs: number, limit: number): Promise<InvitationRef[]>;
  /**
   * Publishes a notice on the outcomes queue (job id = eventId) unless one with its eventId was
   * published before: the claim and the add are one atomic step.
   */
  publishNotice(notice: Notice): Promise<"published" | "already-sent">;
}

/** Items per page of held invitations when no `limit` is given, and the most. */
export const HELD_LIST_DEFAULT = 50;
export const HELD_LIST_MAX = 200;

/**
 * The position of a record in the open indexes: its expiry (ms, zero-padded to 15 digits; no
 * expiry sorts last) then its names, so the order is total and a cursor is a position.
 */
export function heldPosition(expiresAt: string | null, catalog: string, identifier: string): string {
  const ms = expiresAt === null ? Number.NaN : Date.parse(expiresAt);
  const sortable = Number.isFinite(ms) && ms >= 0 ? Math.min(ms, NO_EXPIRY) : NO_EXPIRY;
  return `${String(sortable).padStart(15, "0")}|${catalog}.${identifier}`;
}
const NO_EXPIRY = 999_999_999_999_999;

/** The position that every record expiring at or before `ms` sorts before. */
export function positionAfter(ms: number): string {
  return `${String(Math.max(0, Math.min(Math.floor(ms), NO_EXPIRY))).padStart(15, "0")}|~`;
}

/** The cursor of a page that ended at `position` (opaque to callers), and back. */
export function encodeHeldCursor(position: string, catalog: string | undefined): string {
  return Buffer.from(JSON.stringify({ p: position, c: catalog ?? null })).toString("base64url");
}

export function decodeHeldCursor(cursor: string): { position: string; catalog: string | null } | undefined {
  try {
    const v = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as { p?: unknown; c?: unknown };
    if (typeof v.p !== "string" || !/^\d{15}\|[A-Za-z0-9-]+\.[A-Za-z0-9-]+$/.test(v.p)) return undefined;
    if (v.c !== null && typeof v.c !== "string") return undefined;
    return { position: v.p, catalog: v.c };
  } catch {
    return undefined;
  }
}

const CURSOR_RULE = "must be the `next` of a previous page, as it was";

/** GET /v1/held's query (strings from a URL, numbers from the library). */
export const heldQuerySchema = z.strictObject(
  {
    catalog: catalogSchema.optional().describe("Only invitations of this catalog."),
    cursor: cursorParamSchema(),
    limit: limitParamSchema(HELD_LIST_MAX, HELD_LIST_DEFAULT),
  },
  { error: () => "must be an object" },
);

/** The query checked, or each broken rule by field (an unknown parameter is named as the field). */
export function parseHeldQuery(input: unknown): { query: HeldQuery } | { issues: FieldIssue[] } {
  const unknown =
    input !== null && typeof input === "object"
      ? Object.keys(input).filter((k) => !Object.hasOwn(heldQuerySchema.shape, k))
      : [];
  if (unknown.length > 0)
    return {
      issues: unknown.map((field) => ({ field, rule: "is not a parameter of this listing (catalog, cursor, limit)" })),
    };
  const parsed = heldQuerySchema.safeParse(input ?? {});
  if (!parsed.success) return { issues: toFieldIssues(parsed.error) };
  const { catalog, cursor, limit } = parsed.data;
  if (cursor !== undefined) {
    const decoded = decodeHeldCursor(cursor);
    if (!decoded) return { issues: [{ field: "cursor", rule: CURSOR_RULE }] };
    if (decoded.catalog !== (catalog ?? null))
      return {
        issues: [{ field: "cursor", rule: "belongs to a listing of another catalog: start again without a cursor" }],
      };
  }
  return {
    query: { limit: limit ?? HELD_LIST_DEFAULT, ...(catalog ? { catalog } : {}), ...(cursor ? { cursor } : {}) },
  };
}

/** Where a checked query's page starts: after this position (exclusive), or at the beginning. @throws ListQueryError */
export function heldStartOf(query: HeldQuery): string | undefined {
  if (query.cursor === undefined) return undefined;
  const decoded = decodeHeldCursor(query.cursor);
  if (!decoded || decoded.catalog !== (query.catalog ?? null))
    throw new ListQueryError([{ field: "cursor", rule: CURSOR_RULE }]);
  return decoded.position;
}
