import { describe, expect, it } from "vitest";
import type { InvitationSummary, ListInvitationsInput } from "../../src/aws/invitation-api.js";
import { discover, type DiscoveryPorts } from "../../src/producer/discover.js";
import type { EnqueueResult } from "../../src/producer/producer.js";

/**
 * discover's memory is bounded whatever the list API answers: it decides and enqueues page by page
 * (never more than a page of invitations waiting to be enqueued) and its summary lists at most
 * maxListed of them. Measured as counts (invitations held, batch sizes, pages read), never timings.
 */
describe("discover: page by page", () => {
  const PAGES = 40;
  const PAGE_SIZE = 50;

  /** A list API of PAGES pages of PAGE_SIZE pending invitations, made as they are asked for. */
  function ports() {
    const seen = { listCalls: 0, batches: [] as Array<{ size: number; afterListCalls: number }> };
    const invitation = (n: number): InvitationSummary => ({
      catalog: "AWS",
      identifier: `pacinv-${String(n).padStart(13, "0")}`,
      status: "PENDING",
      connectionType: "OPPORTUNITY_COLLABORATION",
      participantType: "RECEIVER",
      otherParticipantIdentifier: "111122223333",
      createdAt: null,
      expiresAt: null,
    });
    const p: DiscoveryPorts = {
      api: {
        async listInvitations(input: ListInvitationsInput) {
          const page = Number(input.nextToken ?? "0");
          seen.listCalls++;
          return {
            invitations: Array.from({ length: PAGE_SIZE }, (_, i) => invitation(page * PAGE_SIZE + i)),
            nextToken: page + 1 < PAGES ? String(page + 1) : null,
          };
        },
        getInvitation: () => Promise.reject(new Error("not asked for")),
      },
      async enqueueMany(requests) {
        seen.batches.push({ size: requests.length, afterListCalls: seen.listCalls });
        return requests.map(
          (r, i) =>
            ({
              jobId: `${(r as { identifier: string }).identifier}.${i}`,
              duplicate: false,
              state: "queued",
            }) as unknown as EnqueueResult,
        );
      },
      preview: () => Promise.reject(new Error("not a dry run")),
    };
    return { p, seen };
  }

  it("enqueues each page's accepts before it reads the next page, and lists at most maxListed", async () => {
    const { p, seen } = ports();
    const s = await discover(p, {
      catalogs: ["AWS"],
      policy: { default: "accept", rules: [] },
      pageSize: PAGE_SIZE,
      maxListed: 10,
    });
    expect(s).toMatchObject({
      found: PAGES * PAGE_SIZE,
      enqueued: { accept: PAGES * PAGE_SIZE, reject: 0 },
      invitationsOmitted: PAGES * PAGE_SIZE - 10,
      calls: { list: PAGES, get: 0 },
    });
    expect(s.invitations).toHaveLength(10);
    // One batch per page, of that page only, sent before the next page was asked for.
    expect(seen.batches).toEqual(Array.from({ length: PAGES }, (_, k) => ({ size: PAGE_SIZE, afterListCalls: k + 1 })));
  });
});
