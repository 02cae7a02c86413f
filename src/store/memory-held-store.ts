import type { Notice } from "../contracts/notice.js";
import {
  type ClosedHeldState,
  encodeHeldCursor,
  type HeldDecision,
  type HeldInvitation,
  type HeldPage,
  type HeldQuery,
  type HeldSighting,
  type HeldStore,
  heldPosition,
  heldStartOf,
  type InvitationRef,
  positionAfter,
  type SightingResult,
} from "./held-store.js";

/**
 * The held-invitation store in memory (held-store.ts's promises kept by maps), for unit tests of
 * the code around it. One process, one event loop: every method is atomic.
 */
export interface MemoryHeldStore extends HeldStore {
  /** The notices published, in order. */
  readonly notices: readonly Notice[];
  readonly records: ReadonlyMap<string, Readonly<HeldInvitation>>;
}

export function createMemoryHeldStore(): MemoryHeldStore {
  const records = new Map<string, HeldInvitation>();
  const noticed = new Set<string>();
  const expiringNoticed = new Set<string>();
  const notices: Notice[] = [];
  const keyOf = (ref: InvitationRef) => `${ref.catalog}.${ref.identifier}`;
  const open = () => [...records.values()].filter((r) => r.state === "held");
  const byPosition = (rs: HeldInvitation[]) =>
    rs
      .map((r) => ({ r, p: heldPosition(r.expiresAt, r.catalog, r.identifier) }))
      .sort((a, b) => (a.p < b.p ? -1 : a.p > b.p ? 1 : 0));
  const copy = (r: HeldInvitation): HeldInvitation => ({ ...r, decision: r.decision ? { ...r.decision } : null });

  return {
    notices,
    records,
    async recordHeld(sightings: readonly HeldSighting[]): Promise<SightingResult[]> {
      return sightings.map((s) => {
        const existing = records.get(keyOf(s));
        if (existing && existing.state !== "held") return "closed";
        const { seenAt, ...details } = s;
        records.set(keyOf(s), {
          ...details,
          state: "held",
          firstSeenAt: existing?.firstSeenAt ?? seenAt,
          lastSeenAt: seenAt,
          closedAt: null,
          decision: null,
        });
        return existing ? "seen" : "new";
      });
    },
    async touchHeld(refs: readonly InvitationRef[], seenAt: string): Promise<void> {
      for (const ref of refs) {
        const r = records.get(keyOf(ref));
        if (r?.state === "held") r.lastSeenAt = seenAt;
      }
    },
    async closeHeld(ref: InvitationRef, state: ClosedHeldState, at: string, decision?: HeldDecision) {
      const r = records.get(keyOf(ref));
      if (!r) return undefined;
      if (r.state !== "held") return { closed: false, record: copy(r) };
      r.state = state;
      r.closedAt = at;
      r.decision = state === "decided" && decision ? { ...decision } : null;
      return { closed: true, record: copy(r) };
    },
    async getHeld(ref: InvitationRef) {
      const r = records.get(keyOf(ref));
      return r ? copy(r) : undefined;
    },
    async listHeld(query: HeldQuery): Promise<HeldPage> {
      const start = heldStartOf(query);
      const all = byPosition(open().filter((r) => query.catalog === undefined || r.catalog === query.catalog)).filter(
        (x) => start === undefined || x.p > start,
      );
      const page = all.slice(0, query.limit);
      const more = all.length > page.length;
      return {
        items: page.map((x) => copy(x.r)),
        next: more && page.length > 0 ? encodeHeldCursor(page.at(-1)!.p, query.catalog) : null,
      };
    },
    async unseenHeld(catalog: string, beforeMs: number, limit: number) {
      return open()
        .filter((r) => r.catalog === catalog && Date.parse(r.lastSeenAt) < beforeMs)
        .sort((a, b) => Date.parse(a.lastSeenAt) - Date.parse(b.lastSeenAt))
        .slice(0, limit)
        .map((r) => ({ catalog: r.catalog, identifier: r.identifier }));
    },
    async dueForExpiringNotice(beforeMs: number, limit: number) {
      const bound = positionAfter(beforeMs);
      return byPosition(open().filter((r) => !expiringNoticed.has(keyOf(r))))
        .filter((x) => x.p < bound)
        .slice(0, limit)
        .map((x) => copy(x.r));
    },
    async markExpiringNoticed(ref: InvitationRef) {
      expiringNoticed.add(keyOf(ref));
    },
    async expiredHeld(nowMs: number, limit: number) {
      const bound = positionAfter(nowMs - 1);
      return byPosition(open())
        .filter((x) => x.p < bound)
        .slice(0, limit)
        .map((x) => ({ catalog: x.r.catalog, identifier: x.r.identifier }));
    },
    async publishNotice(notice: Notice) {
      if (noticed.has(notice.eventId)) return "already-sent";
      noticed.add(notice.eventId);
      notices.push(notice);
      return "published";
    },
  };
}
