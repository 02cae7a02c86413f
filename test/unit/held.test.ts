/**
 * The held invitations' logic (app/held.ts) over the in-memory stores: sightings, closes, the
 * listing's pages, notices once, and decide's answers, without Redis (test/integration/held.test.ts
 * runs the same on Redis, the emulator and the SDK).
 */
import { describe, expect, it } from "vitest";
import { checkHeld, decide, recordHeld } from "../../src/app/held.js";
import { DecisionConflictError, InvitationNotPendingError } from "../../src/errors/index.js";
import { createProducerOn } from "../../src/producer/producer.js";
import type { HeldSighting } from "../../src/store/held-store.js";
import { createMemoryHeldStore } from "../../src/store/memory-held-store.js";
import { createMemoryRequestStore } from "../../src/store/memory-request-store.js";

const NOW = Date.parse("2026-12-08T00:00:00Z");
const HOUR = 3_600_000;
const id = (n: number) => `pacinv-${String(n).padStart(13, "A")}`;
const sighting = (n: number, expiresInHours: number): HeldSighting => ({
  catalog: "AWS",
  identifier: id(n),
  otherParticipantIdentifier: "222233334444",
  connectionType: "OPPORTUNITY_COLLABORATION",
  inviterEmail: null,
  expiresAt: new Date(NOW + expiresInHours * HOUR).toISOString(),
  rule: null,
  policyHash: "0123456789abcdef",
  seenAt: new Date(NOW).toISOString(),
});

function setup() {
  const store = createMemoryHeldStore();
  const requests = createMemoryRequestStore();
  const reads: string[] = [];
  const deps = {
    store,
    expiryNoticeMs: 24 * HOUR,
    now: () => new Date(NOW),
    producer: createProducerOn(requests),
    jobs: requests,
    api: {
      async getInvitation(ref: { catalog: string; identifier: string }) {
        reads.push(ref.identifier);
        return { status: ref.identifier === id(9) ? "ACCEPTED" : "PENDING" } as never;
      },
    },
  };
  return { store, requests, deps, reads };
}

describe("held invitations (in memory)", () => {
  it(
    "records new, seen and closed sightings; sends the held notice once " + "and the expiring one within the window",
    async () => {
      const { store, deps } = setup();
      expect(await recordHeld(deps, [sighting(1, 48), sighting(2, 12)])).toEqual(["new", "new"]);
      expect(await recordHeld(deps, [sighting(1, 48)])).toEqual(["seen"]);
      await store.closeHeld({ catalog: "AWS", identifier: id(1) }, "canceled", new Date(NOW).toISOString());
      expect(await recordHeld(deps, [sighting(1, 48)])).toEqual(["closed"]);
      await checkHeld(deps);
      expect(store.notices.map((n) => n.eventId).sort()).toEqual(
        [`notice:expiring:AWS.${id(2)}`, `notice:held:AWS.${id(1)}`, `notice:held:AWS.${id(2)}`].sort(),
      );
    },
  );

  it("pages the open records by expiry", async () => {
    const { store, deps } = setup();
    await recordHeld(deps, [sighting(1, 30), sighting(2, 10), sighting(3, 20)]);
    const first = await store.listHeld({ limit: 2 });
    const second = await store.listHeld({ limit: 2, cursor: first.next! });
    expect([...first.items, ...second.items].map((r) => r.identifier)).toEqual([id(2), id(3), id(1)]);
    expect(second.next).toBeNull();
  });

  it("decides: one request for alike decisions, a conflict otherwise, refusals with the status", async () => {
    const { deps, requests, reads } = setup();
    await recordHeld(deps, [sighting(1, 48)]);
    const a = await decide(deps, { catalog: "AWS", identifier: id(1), action: "accept", decidedBy: "alice" });
    const b = await decide(deps, { catalog: "AWS", identifier: id(1), action: "accept", decidedBy: "bob" });
    expect(b.request).toMatchObject({ jobId: a.request.jobId, duplicate: true });
    expect(b.decidedBy).toBe("alice");
    expect(requests.jobs.size).toBe(1);
    await expect(
      decide(deps, { catalog: "AWS", identifier: id(1), action: "reject", decidedBy: "carol" }),
    ).rejects.toBeInstanceOf(DecisionConflictError);
    expect(reads).toEqual([]);
    await expect(
      decide(deps, { catalog: "AWS", identifier: id(9), action: "accept", decidedBy: "dave" }),
    ).rejects.toBeInstanceOf(InvitationNotPendingError);
    expect(reads).toEqual([id(9)]);
    await expect(
      decide(deps, { catalog: "AWS", identifier: id(1), action: "maybe", decidedBy: "x" }),
    ).rejects.toMatchObject({ code: "INVALID_REQUEST", issues: [{ field: "action" }] });
  });
});
