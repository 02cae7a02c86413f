import { describe, expect, it } from "vitest";
import { settle } from "../../src/operations/settle.js";
import type { ConnectionSummary, InvitationApi, InvitationStatusResult } from "../../src/aws/invitation-api.js";
import { accept } from "../../src/operations/accept.js";
import { reject } from "../../src/operations/reject.js";
import type { InvitationOperation } from "../../src/operations/operation.js";

/** settle() of invitation AWS.pacinv-X for an operation (accept by default). */
const reconcile = (api: InvitationApi, _catalog: string, _identifier: string, _options?: unknown, action = "accept") =>
  settle(api, (action === "reject" ? reject : accept) as InvitationOperation, {
    catalog: "AWS",
    identifier: "pacinv-X",
  });

/** A fake of the port: one invitation, ListConnections pages, GetConnection by id. */
function fakeApi(
  invitation: InvitationStatusResult,
  pages: ConnectionSummary[][],
): InvitationApi & { listed: number; got: string[] } {
  const api = {
    listed: 0,
    got: [] as string[],
    act: () => Promise.reject(new Error("not used")),
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

describe("settle (reading the invitation)", () => {
  it("uses the ConnectionId when AWS gives one, without listing", async () => {
    const api = fakeApi(accepted({ connectionId: "pac-GIVEN0000000" }), []);
    expect(await reconcile(api, "AWS", "pacinv-X")).toMatchObject({
      settled: "done",
      fields: { connection: { Id: "pac-GIVEN0000000" }, alreadyAccepted: true },
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
      settled: "done",
      fields: { connection: { Id: "pac-NEWACTIVE0000" } },
    });
    expect(api.listed).toBe(2);
    expect(api.got).toEqual(["pac-NEWACTIVE0000"]);
  });

  it("is accepted with no connection and a reason when none can be found, never failed", async () => {
    const none = await reconcile(fakeApi(accepted(), [[]]), "AWS", "pacinv-X");
    expect(none).toMatchObject({ settled: "done", fields: { connection: null, alreadyAccepted: true } });
    expect((none as unknown as { fields: { reason: string } }).fields.reason).toMatch(
      /ACCEPTED.*no ConnectionId.*no OPPORTUNITY_COLLABORATION connection with 111122223333/,
    );
    const unknownParticipant = await reconcile(
      fakeApi(accepted({ otherParticipantIdentifier: null }), []),
      "AWS",
      "pacinv-X",
    );
    expect(unknownParticipant).toMatchObject({ settled: "done", fields: { connection: null } });
  });

  it("reports final statuses, pending ones, and look-up errors classified", async () => {
    expect(await reconcile(fakeApi(accepted({ status: "EXPIRED" }), []), "AWS", "pacinv-X")).toEqual({
      settled: "final",
      status: "EXPIRED",
    });
    expect(await reconcile(fakeApi(accepted({ status: "PENDING" }), []), "AWS", "pacinv-X")).toEqual({
      settled: "pending",
      status: "PENDING",
    });
    const failing = {
      ...fakeApi(accepted(), []),
      getInvitation: () =>
        Promise.reject(
          Object.assign(new Error("x"), { name: "InternalServerException", $metadata: { httpStatusCode: 500 } }),
        ),
    };
    expect(await reconcile(failing, "AWS", "pacinv-X")).toMatchObject({
      settled: "unknown",
      error: { kind: "transient" },
    });
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
        settled: "done",
        fields: { invitation: { Id: "pacinv-X", Status: "REJECTED" }, awsRequestId: "req-get", alreadyRejected: true },
      });
      for (const status of ["ACCEPTED", "CANCELED", "EXPIRED"]) {
        expect(await reconcile(fakeApi(accepted({ status }), []), "AWS", "pacinv-X", undefined, "reject")).toEqual({
          settled: "final",
          status,
        });
      }
      expect(
        await reconcile(fakeApi(accepted({ status: "PENDING" }), []), "AWS", "pacinv-X", undefined, "reject"),
      ).toEqual({ settled: "pending", status: "PENDING" });
      // An accept's reading of the same statuses is unchanged.
      expect(await reconcile(fakeApi(accepted({ status: "REJECTED" }), []), "AWS", "pacinv-X")).toEqual({
        settled: "final",
        status: "REJECTED",
      });
    },
  );
});
