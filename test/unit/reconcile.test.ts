import { describe, expect, it } from "vitest";
import { reconcile } from "../../src/consumer/reconcile.js";
import type { ConnectionSummary, InvitationApi, InvitationStatusResult } from "../../src/aws/invitation-api.js";

/** A fake of the port: one invitation, ListConnections pages, GetConnection by id. */
function fakeApi(
  invitation: InvitationStatusResult,
  pages: ConnectionSummary[][],
): InvitationApi & { listed: number; got: string[] } {
  const api = {
    listed: 0,
    got: [] as string[],
    acceptInvitation: () => Promise.reject(new Error("not used")),
    rejectInvitation: () => Promise.reject(new Error("not used")),
    listInvitations: () => Promise.reject(new Error("not used")),
    getInvitation: async () => invitation,
    getConnection: async ({ connectionId }: { connectionId: string }) => {
      api.got.push(connectionId);
      return { connection: { Id: connectionId } as never, awsRequestId: "r" };
    },
    listConnections: async ({ nextToken }: { nextToken?: string }) => {
      api.listed++;
      const page = Number(nextToken ?? 0);
      return { connections: pages[page] ?? [], nextToken: page + 1 < pages.length ? String(page + 1) : null };
    },
  };
  return api;
}

const accepted = (extra: Partial<InvitationStatusResult> = {}): InvitationStatusResult => ({
  status: "ACCEPTED",
  connectionId: null,
  otherParticipantIdentifier: "111122223333",
  connectionType: "OPPORTUNITY_COLLABORATION",
  invitation: { Id: "pacinv-X", Status: extra.status ?? "ACCEPTED" } as InvitationStatusResult["invitation"],
  awsRequestId: "req-get",
  ...extra,
});
const summary = (
  id: string,
  status: string,
  updatedAt: string,
  type = "OPPORTUNITY_COLLABORATION",
): ConnectionSummary => ({ id, typeStatuses: { [type]: status }, updatedAt });

describe("reconcile", () => {
  it("uses the ConnectionId when AWS gives one, without listing", async () => {
    const api = fakeApi(accepted({ connectionId: "pac-GIVEN0000000" }), []);
    expect(await reconcile(api, "AWS", "pacinv-X")).toMatchObject({
      found: "accepted",
      result: { connection: { Id: "pac-GIVEN0000000" } },
    });
    expect(api.listed).toBe(0);
  });

  it("without one, reads every page and prefers an ACTIVE connection of the type, the most recent", async () => {
    const api = fakeApi(accepted(), [
      [
        summary("pac-CANCELED00000", "CANCELED", "2026-11-30T10:00:00Z"),
        summary("pac-OTHERTYPE0000", "ACTIVE", "2026-11-30T11:00:00Z", "SUBSIDIARY"),
      ],
      [
        summary("pac-OLDACTIVE0000", "ACTIVE", "2026-11-29T10:00:00Z"),
        summary("pac-NEWACTIVE0000", "ACTIVE", "2026-11-30T09:00:00Z"),
      ],
    ]);
    expect(await reconcile(api, "AWS", "pacinv-X")).toMatchObject({
      found: "accepted",
      result: { connection: { Id: "pac-NEWACTIVE0000" } },
    });
    expect(api.listed).toBe(2);
    expect(api.got).toEqual(["pac-NEWACTIVE0000"]);
  });

  it("is accepted with no connection and a reason when none can be found, never failed", async () => {
    const none = await reconcile(fakeApi(accepted(), [[]]), "AWS", "pacinv-X");
    expect(none).toMatchObject({ found: "accepted", result: null });
    expect((none as { note: string }).note).toMatch(
      /ACCEPTED.*no ConnectionId.*no OPPORTUNITY_COLLABORATION connection with 111122223333/,
    );
    const unknownParticipant = await reconcile(
      fakeApi(accepted({ otherParticipantIdentifier: null }), []),
      "AWS",
      "pacinv-X",
    );
    expect(unknownParticipant).toMatchObject({ found: "accepted", result: null });
  });

  it("reports final statuses, pending ones, and look-up errors classified", async () => {
    expect(await reconcile(fakeApi(accepted({ status: "EXPIRED" }), []), "AWS", "pacinv-X")).toEqual({
      found: "final",
      status: "EXPIRED",
    });
    expect(await reconcile(fakeApi(accepted({ status: "PENDING" }), []), "AWS", "pacinv-X")).toEqual({
      found: "pending",
      status: "PENDING",
    });
    const failing = {
      ...fakeApi(accepted(), []),
      getInvitation: () =>
        Promise.reject(
          Object.assign(new Error("x"), { name: "InternalServerException", $metadata: { httpStatusCode: 500 } }),
        ),
    };
    expect(await reconcile(failing, "AWS", "pacinv-X")).toMatchObject({ found: "error", error: { kind: "transient" } });
  });

  it(
    "for a reject: REJECTED is rejected with the record, " + "ACCEPTED/CANCELED/EXPIRED are final, PENDING is pending",
    async () => {
      const rejected = await reconcile(
        fakeApi(accepted({ status: "REJECTED" }), []),
        "AWS",
        "pacinv-X",
        undefined,
        "reject",
      );
      expect(rejected).toEqual({
        found: "rejected",
        result: { invitation: { Id: "pacinv-X", Status: "REJECTED" }, awsRequestId: "req-get" },
      });
      for (const status of ["ACCEPTED", "CANCELED", "EXPIRED"]) {
        expect(await reconcile(fakeApi(accepted({ status }), []), "AWS", "pacinv-X", undefined, "reject")).toEqual({
          found: "final",
          status,
        });
      }
      expect(
        await reconcile(fakeApi(accepted({ status: "PENDING" }), []), "AWS", "pacinv-X", undefined, "reject"),
      ).toEqual({ found: "pending", status: "PENDING" });
      // An accept's reading of the same statuses is unchanged.
      expect(await reconcile(fakeApi(accepted({ status: "REJECTED" }), []), "AWS", "pacinv-X")).toEqual({
        found: "final",
        status: "REJECTED",
      });
    },
  );
});
