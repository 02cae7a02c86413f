/**
 * The List operations, RejectConnectionInvitation, GetConnection and spread
 * seeding of the emulator, driven with the REAL AWS SDK v3 client over real
 * HTTP (maxAttempts: 1, so each send() is one request).
 */
import { describe, it, expect, beforeAll, afterAll, beforeEach } from "vitest";
import {
  AcceptConnectionInvitationCommand,
  GetConnectionCommand,
  ListConnectionInvitationsCommand,
  ListConnectionsCommand,
  PartnerCentralAccountClient,
  RejectConnectionInvitationCommand,
  paginateListConnectionInvitations,
  paginateListConnections,
  type ConnectionInvitationSummary,
  type ListConnectionInvitationsCommandInput,
} from "@aws-sdk/client-partnercentral-account";
import {
  PartnerCentralEmulator,
  type SeededInvitation,
  type SeededInvitationDetail,
} from "../../src/emulator/index.js";

interface SdkError {
  name: string;
  message: string;
  Reason?: string;
  ErrorDetails?: Array<{ FieldValidationError?: { Name: string; Message: string; Code: string } }>;
  $metadata?: { httpStatusCode?: number };
}

async function failure(p: Promise<unknown>): Promise<SdkError> {
  try {
    await p;
  } catch (err) {
    return err as SdkError;
  }
  throw new Error("expected the call to fail");
}

let emu: PartnerCentralEmulator;
let client: PartnerCentralAccountClient;

beforeAll(async () => {
  emu = await PartnerCentralEmulator.start();
  client = new PartnerCentralAccountClient({
    region: "us-east-1",
    endpoint: emu.url,
    credentials: { accessKeyId: "AKIDTEST", secretAccessKey: "test-secret" },
    maxAttempts: 1,
  });
});

afterAll(async () => {
  client.destroy();
  await emu.close();
});

beforeEach(() => emu.reset());

const listInv = (input: Partial<ListConnectionInvitationsCommandInput> = {}) =>
  client.send(new ListConnectionInvitationsCommand({ Catalog: "AWS", ...input }));

async function allInvitations(input: Partial<ListConnectionInvitationsCommandInput>, pageSize: number) {
  const items: ConnectionInvitationSummary[] = [];
  const pages: number[] = [];
  for await (const page of paginateListConnectionInvitations({ client, pageSize }, { Catalog: "AWS", ...input })) {
    pages.push(page.ConnectionInvitationSummaries!.length);
    items.push(...page.ConnectionInvitationSummaries!);
  }
  return { items, pages };
}

describe("ListConnectionInvitations", () => {
  it("returns summaries with exactly the ConnectionInvitationSummary members, in seeding order", async () => {
    const seeded = emu.seedInvitations(3);
    const accepted = emu.seedInvitation({ status: "ACCEPTED" });
    const out = await listInv();
    expect(out.NextToken).toBeUndefined();
    expect(out.ConnectionInvitationSummaries!.map((s) => s.Id)).toEqual([...seeded, accepted].map((s) => s.identifier));
    const first = out.ConnectionInvitationSummaries![0]!;
    expect(Object.keys(first).sort()).toEqual(
      [
        "Arn",
        "Catalog",
        "ConnectionType",
        "CreatedAt",
        "ExpiresAt",
        "Id",
        "OtherParticipantIdentifier",
        "ParticipantType",
        "Status",
        "UpdatedAt",
      ].sort(),
    );
    expect(first.CreatedAt).toBeInstanceOf(Date);
    expect(first.Arn).toBe(`arn:aws:partnercentral:us-east-1::catalog/AWS/connection-invitation/${first.Id}`);
    const last = out.ConnectionInvitationSummaries![3]!;
    expect(last.Status).toBe("ACCEPTED");
    expect(last.ConnectionId).toMatch(/^pac-[A-Za-z0-9]{13}$/);
  });

  it("lists only the requested catalog", async () => {
    emu.seedInvitations(2, { catalog: "Sandbox" });
    const aws = emu.seedInvitation();
    expect((await listInv()).ConnectionInvitationSummaries!.map((s) => s.Id)).toEqual([aws.identifier]);
    expect((await listInv({ Catalog: "Sandbox" })).ConnectionInvitationSummaries).toHaveLength(2);
    expect((await listInv({ Catalog: "Nowhere" })).ConnectionInvitationSummaries).toEqual([]);
  });

  const filterCases: Array<
    [string, Partial<ListConnectionInvitationsCommandInput>, (s: SeededInvitationDetail) => boolean]
  > = [
    ["Status", { Status: "REJECTED" }, (s) => s.status === "REJECTED"],
    ["ParticipantType", { ParticipantType: "SENDER" }, (s) => s.participantType === "SENDER"],
    ["ConnectionType", { ConnectionType: "SUBSIDIARY" }, (s) => s.connectionType === "SUBSIDIARY"],
    [
      "OtherParticipantIdentifiers",
      { OtherParticipantIdentifiers: ["111122223333", "333344445555"] },
      (s) => ["111122223333", "333344445555"].includes(s.otherParticipantIdentifier),
    ],
    [
      "all filters at once",
      {
        Status: "PENDING",
        ConnectionType: "OPPORTUNITY_COLLABORATION",
        ParticipantType: "RECEIVER",
        OtherParticipantIdentifiers: ["222233334444"],
      },
      (s) =>
        s.status === "PENDING" &&
        s.connectionType === "OPPORTUNITY_COLLABORATION" &&
        s.participantType === "RECEIVER" &&
        s.otherParticipantIdentifier === "222233334444",
    ],
    ["an empty OtherParticipantIdentifiers (no filter)", { OtherParticipantIdentifiers: [] }, () => true],
  ];

  it.each(filterCases)("filters by %s", async (_name, filter, expected) => {
    const seeded = [
      ...emu.seedInvitations(40, { statuses: ["PENDING", "ACCEPTED", "REJECTED", "CANCELED", "EXPIRED"] }),
      ...emu.seedInvitations(6, { participantType: "SENDER" }),
    ];
    const want = seeded.filter(expected).map((s) => s.identifier);
    expect(want.length).toBeGreaterThan(0);
    const { items } = await allInvitations(filter, 100);
    expect(items.map((s) => s.Id)).toEqual(want);
  });

  it("pages with an opaque NextToken: stable order, no duplicates, no empty last page", async () => {
    const seeded = emu.seedInvitations(23);
    const { items, pages } = await allInvitations({}, 5);
    expect(pages).toEqual([5, 5, 5, 5, 3]);
    expect(items.map((s) => s.Id)).toEqual(seeded.map((s) => s.identifier));

    const first = await listInv({ MaxResults: 10 });
    expect(first.NextToken).toMatch(/^\S+$/);
    expect(first.NextToken).not.toContain(first.ConnectionInvitationSummaries![9]!.Id!);
    // Items added while paging come later; the page size may change between pages.
    const late = emu.seedInvitation();
    const rest = await listInv({ MaxResults: 100, NextToken: first.NextToken! });
    expect(rest.NextToken).toBeUndefined();
    expect([...first.ConnectionInvitationSummaries!, ...rest.ConnectionInvitationSummaries!].map((s) => s.Id)).toEqual([
      ...seeded.map((s) => s.identifier),
      late.identifier,
    ]);
  });

  it("defaults MaxResults to 20", async () => {
    emu.seedInvitations(21);
    const out = await listInv();
    expect(out.ConnectionInvitationSummaries).toHaveLength(20);
    expect(out.NextToken).toBeDefined();
  });

  it("a page of exactly MaxResults items at the end carries no NextToken", async () => {
    emu.seedInvitations(4);
    const out = await listInv({ MaxResults: 4 });
    expect(out.ConnectionInvitationSummaries).toHaveLength(4);
    expect(out.NextToken).toBeUndefined();
  });

  const invalid: Array<[string, Partial<ListConnectionInvitationsCommandInput>, string, string]> = [
    ["MaxResults 0", { MaxResults: 0 }, "MaxResults", "INVALID_VALUE"],
    ["MaxResults 101", { MaxResults: 101 }, "MaxResults", "INVALID_VALUE"],
    ["MaxResults 2.5", { MaxResults: 2.5 }, "MaxResults", "INVALID_VALUE"],
    ["an unknown Status", { Status: "LOST" as never }, "Status", "INVALID_ENUM_VALUE"],
    ["an unknown ParticipantType", { ParticipantType: "OBSERVER" as never }, "ParticipantType", "INVALID_ENUM_VALUE"],
    ["an unknown ConnectionType", { ConnectionType: "RESELLER" as never }, "ConnectionType", "INVALID_ENUM_VALUE"],
    [
      "a malformed participant id",
      { OtherParticipantIdentifiers: ["not valid!"] },
      "OtherParticipantIdentifiers",
      "INVALID_STRING_FORMAT",
    ],
    [
      "duplicate participant ids",
      { OtherParticipantIdentifiers: ["111122223333", "111122223333"] },
      "OtherParticipantIdentifiers",
      "DUPLICATE_VALUE",
    ],
    [
      "101 participant ids",
      { OtherParticipantIdentifiers: Array.from({ length: 101 }, (_, i) => `id-${i}`) },
      "OtherParticipantIdentifiers",
      "TOO_MANY_VALUES",
    ],
    ["an empty NextToken", { NextToken: "" }, "NextToken", "INVALID_STRING_FORMAT"],
    ["a NextToken that does not decode", { NextToken: "garbage" }, "NextToken", "INVALID_VALUE"],
    ["an empty Catalog", { Catalog: "" }, "Catalog", "INVALID_STRING_FORMAT"],
  ];

  it.each(invalid)("rejects %s with a ValidationException naming the field", async (_n, input, field, code) => {
    const err = await failure(listInv(input));
    expect(err.name).toBe("ValidationException");
    expect(err.$metadata?.httpStatusCode).toBe(400);
    expect(err.Reason).toBe("REQUEST_VALIDATION_FAILED");
    expect(err.ErrorDetails).toEqual([
      { FieldValidationError: { Name: field, Message: expect.any(String), Code: code } },
    ]);
  });

  it("refuses a NextToken issued for other filters or by ListConnections", async () => {
    emu.seedInvitations(3);
    const { NextToken } = await listInv({ MaxResults: 1 });
    const err = await failure(listInv({ MaxResults: 1, NextToken: NextToken!, Status: "ACCEPTED" }));
    expect(err.ErrorDetails?.[0]?.FieldValidationError).toMatchObject({ Name: "NextToken", Code: "INVALID_VALUE" });

    emu.seedInvitations(3, { status: "ACCEPTED" });
    const conns = await client.send(new ListConnectionsCommand({ Catalog: "AWS", MaxResults: 1 }));
    const err2 = await failure(listInv({ NextToken: conns.NextToken! }));
    expect(err2.name).toBe("ValidationException");
  });
});

describe("RejectConnectionInvitation", () => {
  const reject = (inv: SeededInvitation, token: string, reason?: string) =>
    client.send(
      new RejectConnectionInvitationCommand({
        Catalog: inv.catalog,
        Identifier: inv.identifier,
        ClientToken: token,
        ...(reason !== undefined ? { Reason: reason } : {}),
      }),
    );

  it("returns the full invitation record, REJECTED", async () => {
    const inv = emu.seedInvitation({ inviterEmail: "bob@globex.example", inviterName: "Bob" });
    const out = await reject(inv, "tok-r1", "Not a fit");
    expect(out).toMatchObject({
      Catalog: "AWS",
      Id: inv.identifier,
      Status: "REJECTED",
      ParticipantType: "RECEIVER",
      ConnectionType: "OPPORTUNITY_COLLABORATION",
      InviterEmail: "bob@globex.example",
      InviterName: "Bob",
      OtherParticipantIdentifier: inv.otherParticipantIdentifier,
    });
    expect(out.InvitationMessage).toEqual(expect.any(String));
    expect(out.UpdatedAt).toBeInstanceOf(Date);
    expect(out.ConnectionId).toBeUndefined();
    expect(emu.getInvitation("AWS", inv.identifier)!.Status).toBe("REJECTED");
  });

  it("Reason is optional and at most 256 characters", async () => {
    const [a, b, c] = emu.seedInvitations(3);
    await reject(a!, "tok-no-reason");
    await reject(b!, "tok-256", "r".repeat(256));
    const err = await failure(reject(c!, "tok-257", "r".repeat(257)));
    expect(err.name).toBe("ValidationException");
    expect(err.ErrorDetails).toEqual([
      { FieldValidationError: { Name: "Reason", Message: expect.any(String), Code: "INVALID_STRING_FORMAT" } },
    ]);
    expect(emu.getInvitation("AWS", c!.identifier)!.Status).toBe("PENDING");
  });

  it("same ClientToken and input replays the first answer; a different Reason is CONFLICT_CLIENT_TOKEN", async () => {
    const inv = emu.seedInvitation();
    const first = await reject(inv, "tok-rr", "first");
    const again = await reject(inv, "tok-rr", "first");
    expect(again.UpdatedAt!.getTime()).toBe(first.UpdatedAt!.getTime());
    expect(emu.calls({ operation: "RejectConnectionInvitation" }).map((c) => c.replayed ?? false)).toEqual([
      false,
      true,
    ]);

    const err = await failure(reject(inv, "tok-rr", "second"));
    expect(err.name).toBe("ConflictException");
    expect(err.Reason).toBe("CONFLICT_CLIENT_TOKEN");
    expect(err.$metadata?.httpStatusCode).toBe(409);
  });

  it.each(["ACCEPTED", "REJECTED", "CANCELED", "EXPIRED"] as const)(
    "rejecting a %s invitation is a ConflictException INCOMPATIBLE_CONNECTION_INVITATION_STATE",
    async (status) => {
      const inv = emu.seedInvitation({ status });
      const err = await failure(reject(inv, `tok-${status}`));
      expect(err.name).toBe("ConflictException");
      expect(err.$metadata?.httpStatusCode).toBe(409);
      expect(err.Reason).toBe("INCOMPATIBLE_CONNECTION_INVITATION_STATE");
      expect(err.message).toContain(status);
      expect(emu.getInvitation("AWS", inv.identifier)!.Status).toBe(status);
    },
  );

  it("an unknown invitation is a ResourceNotFoundException", async () => {
    const err = await failure(reject({ catalog: "AWS", identifier: "pacinv-ABCDEFGHIJKLM", status: "" }, "tok-x"));
    expect(err.name).toBe("ResourceNotFoundException");
    expect(err.Reason).toBe("CONNECTION_INVITATION_NOT_FOUND");
  });
});

describe("GetConnection and ListConnections", () => {
  it("GetConnection returns the connection of an accepted invitation, with the participant kind seeded", async () => {
    const inv = emu.seedInvitation({
      status: "ACCEPTED",
      otherParticipantKind: "SellerProfile",
      partnerName: "Seller Co",
    });
    const connectionId = emu.getInvitation("AWS", inv.identifier)!.ConnectionId!;
    const out = await client.send(new GetConnectionCommand({ Catalog: "AWS", Identifier: connectionId }));
    expect(out.Id).toBe(connectionId);
    const detail = out.ConnectionTypes!.OPPORTUNITY_COLLABORATION!;
    expect(detail.OtherParticipant?.SellerProfile?.Name).toBe("Seller Co");
    expect(detail.OtherParticipant?.SellerProfile?.Id).toMatch(/^seller-/);
    expect(detail.CanceledAt).toBeUndefined();
  });

  it("a seeded CANCELED connection type carries CanceledAt and CanceledBy", async () => {
    const inv = emu.seedInvitation({
      status: "ACCEPTED",
      connectionStatus: "CANCELED",
      otherParticipantKind: "Account",
    });
    const connectionId = emu.getInvitation("AWS", inv.identifier)!.ConnectionId!;
    const out = await client.send(new GetConnectionCommand({ Catalog: "AWS", Identifier: connectionId }));
    const detail = out.ConnectionTypes!.OPPORTUNITY_COLLABORATION!;
    expect(detail).toMatchObject({ Status: "CANCELED", CanceledBy: inv.otherParticipantIdentifier });
    expect(detail.CanceledAt).toBeInstanceOf(Date);
    expect(detail.OtherParticipant?.Account?.Name).toBe("Emulated Partner");
  });

  it(
    "ListConnections returns ConnectionSummaries (Status " + "and OtherParticipant per type) in acceptance order",
    async () => {
      const invs = emu.seedInvitations(4);
      const ids: string[] = [];
      for (const [i, inv] of invs.entries()) {
        const out = await client.send(
          new AcceptConnectionInvitationCommand({
            Catalog: "AWS",
            Identifier: inv.identifier,
            ClientToken: `tok-${i}`,
          }),
        );
        ids.push(out.Connection!.Id!);
      }
      const out = await client.send(new ListConnectionsCommand({ Catalog: "AWS" }));
      expect(out.ConnectionSummaries!.map((c) => c.Id)).toEqual(ids);
      const first = out.ConnectionSummaries![0]!;
      expect(Object.keys(first).sort()).toEqual([
        "Arn",
        "Catalog",
        "ConnectionTypes",
        "Id",
        "OtherParticipantAccountId",
        "UpdatedAt",
      ]);
      const [type] = Object.keys(first.ConnectionTypes!);
      expect(Object.keys(first.ConnectionTypes![type as "SUBSIDIARY"]!).sort()).toEqual(["OtherParticipant", "Status"]);
      expect(first.ConnectionTypes![type as "SUBSIDIARY"]!.OtherParticipant?.PartnerProfile?.Name).toBe(
        "Acme Cloud Partners",
      );
    },
  );

  it(
    "filters by OtherParticipantIdentifiers (account id or " + "profile id) and ConnectionType[:status], and pages",
    async () => {
      emu.seedInvitations(16, { status: "ACCEPTED" });
      emu.seedInvitation({
        status: "ACCEPTED",
        connectionType: "SUBSIDIARY",
        connectionStatus: "CANCELED",
        otherParticipantAccountId: "999988887777",
      });
      const list = async (input: Record<string, unknown>, pageSize = 3) => {
        const out = [];
        for await (const page of paginateListConnections({ client, pageSize }, { Catalog: "AWS", ...input })) {
          out.push(...page.ConnectionSummaries!);
        }
        return out;
      };
      expect(await list({}, 5)).toHaveLength(17);
      const acme = await list({ OtherParticipantIdentifiers: ["111122223333"] });
      expect(acme).toHaveLength(4);
      expect(new Set(acme.map((c) => c.OtherParticipantAccountId))).toEqual(new Set(["111122223333"]));
      expect(await list({ OtherParticipantIdentifiers: ["pprofile-GLOBEX0000001"] })).toHaveLength(4);
      expect(await list({ ConnectionType: "SUBSIDIARY" })).toHaveLength(9);
      expect(await list({ ConnectionType: "SUBSIDIARY:ACTIVE" })).toHaveLength(8);
      const canceled = await list({ ConnectionType: "SUBSIDIARY:CANCELED" });
      expect(canceled.map((c) => c.OtherParticipantAccountId)).toEqual(["999988887777"]);
      expect(await list({ ConnectionType: "RESELLER" })).toEqual([]);
      expect(
        await list({ ConnectionType: "OPPORTUNITY_COLLABORATION", OtherParticipantIdentifiers: ["444455556666"] }),
      ).toHaveLength(2);
    },
  );

  it.each([
    ["MaxResults 0", { MaxResults: 0 }, "MaxResults"],
    ["a malformed ConnectionType filter", { ConnectionType: "TYPE:1" }, "ConnectionType"],
    ["a NextToken that does not decode", { NextToken: "%%%" }, "NextToken"],
  ])("ListConnections rejects %s", async (_n, input, field) => {
    const err = await failure(client.send(new ListConnectionsCommand({ Catalog: "AWS", ...input })));
    expect(err.name).toBe("ValidationException");
    expect(err.ErrorDetails?.map((d) => d.FieldValidationError?.Name)).toEqual([field]);
  });
});

describe("spread seeding", () => {
  it("spreads invitations over partners, connection types and email domains by default", async () => {
    const seeded = emu.seedInvitations(8);
    expect(new Set(seeded.map((s) => s.catalog))).toEqual(new Set(["AWS"]));
    expect(new Set(seeded.map((s) => s.status))).toEqual(new Set(["PENDING"]));
    expect(new Set(seeded.map((s) => s.connectionType))).toEqual(new Set(["OPPORTUNITY_COLLABORATION", "SUBSIDIARY"]));
    expect(new Set(seeded.map((s) => s.otherParticipantIdentifier)).size).toBe(4);
    expect(new Set(seeded.map((s) => s.inviterEmail.split("@")[1])).size).toBe(4);
    // every (type, partner) pair exactly once
    expect(new Set(seeded.map((s) => `${s.connectionType}/${s.otherParticipantIdentifier}`)).size).toBe(8);
    const rec = emu.getInvitation("AWS", seeded[0]!.identifier)!;
    expect(rec.InviterEmail).toBe("inviter@acme.example");
    expect(rec.InviterName).toBe("Inviter at Acme Cloud Partners");
  });

  it("spreads over catalogs and statuses when asked, and pins what is given", async () => {
    const seeded = emu.seedInvitations(20, {
      catalogs: ["AWS", "Sandbox"],
      statuses: ["PENDING", "ACCEPTED", "REJECTED", "CANCELED", "EXPIRED"],
      connectionType: "SUBSIDIARY",
      emailDomain: "pinned.example",
      participants: 2,
    });
    expect(new Set(seeded.map((s) => s.catalog))).toEqual(new Set(["AWS", "Sandbox"]));
    expect(new Set(seeded.map((s) => s.status)).size).toBe(5);
    expect(new Set(seeded.map((s) => s.connectionType))).toEqual(new Set(["SUBSIDIARY"]));
    expect(new Set(seeded.map((s) => s.inviterEmail))).toEqual(new Set(["inviter@pinned.example"]));
    expect(new Set(seeded.map((s) => s.otherParticipantIdentifier))).toEqual(new Set(["111122223333", "222233334444"]));
    const sandboxAccepted = await listInv({ Catalog: "Sandbox", Status: "ACCEPTED" });
    expect(sandboxAccepted.ConnectionInvitationSummaries).toHaveLength(2);
  });

  it("takes explicit participants and email domains, and pins one participant", async () => {
    const seeded = emu.seedInvitations(4, {
      participants: [
        { accountId: "123412341234", name: "Solo", emailDomain: "solo.example", kind: "Account" },
        { accountId: "567856785678", name: "Duo", emailDomain: "duo.example" },
      ],
      emailDomains: ["a.example", "b.example", "c.example"],
    });
    expect(seeded.map((s) => s.inviterEmail)).toEqual([
      "inviter@a.example",
      "inviter@b.example",
      "inviter@c.example",
      "inviter@a.example",
    ]);
    expect(seeded.map((s) => s.otherParticipantIdentifier)).toEqual([
      "123412341234",
      "123412341234",
      "567856785678",
      "567856785678",
    ]);
    const pinned = emu.seedInvitations(3, { otherParticipantAccountId: "000011112222" });
    expect(new Set(pinned.map((s) => s.otherParticipantIdentifier))).toEqual(new Set(["000011112222"]));
  });

  it("keeps the one-at-a-time defaults of seedInvitation", () => {
    const one = emu.seedInvitation();
    expect(one).toMatchObject({
      catalog: "AWS",
      status: "PENDING",
      connectionType: "OPPORTUNITY_COLLABORATION",
      inviterEmail: "inviter@example.com",
    });
    expect(one.otherParticipantIdentifier).toMatch(/^[1-9][0-9]{11}$/);
  });

  it.each([
    ["an empty statuses list", { statuses: [] }],
    ["participants 0", { participants: 0 }],
    ["an invalid email domain", { emailDomain: "bad domain" }],
    ["an invalid catalog", { catalogs: ["bad catalog"] }],
  ])("refuses %s", (_n, input) => {
    expect(() => emu.seedInvitations(2, input as never)).toThrow();
  });

  it("seeds spread invitations over the control plane", async () => {
    const res = await fetch(`${emu.url}/_emulator/invitations`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ count: 12, catalogs: ["Sandbox"], statuses: ["PENDING", "ACCEPTED"], participants: 3 }),
    });
    expect(res.status).toBe(200);
    const seeded = (await res.json()) as Array<{ status: string; otherParticipantIdentifier: string; catalog: string }>;
    expect(seeded).toHaveLength(12);
    expect(new Set(seeded.map((s) => s.status))).toEqual(new Set(["PENDING", "ACCEPTED"]));
    expect(new Set(seeded.map((s) => s.otherParticipantIdentifier)).size).toBe(3);
    const bad = await fetch(`${emu.url}/_emulator/invitations`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ statuses: ["PENDING"] }),
    });
    expect(bad.status).toBe(400);

    const conn = (await listConnectionsOver("Sandbox"))[0]!;
    const viaCtl = await fetch(`${emu.url}/_emulator/connections/Sandbox/${conn}`);
    expect(await viaCtl.json()).toMatchObject({ Id: conn, Catalog: "Sandbox" });
    expect((await fetch(`${emu.url}/_emulator/connections/Sandbox/pac-ABCDEFGHIJKLM`)).status).toBe(404);
  });
});

async function listConnectionsOver(catalog: string): Promise<string[]> {
  const out = await client.send(new ListConnectionsCommand({ Catalog: catalog }));
  return out.ConnectionSummaries!.map((c) => c.Id!);
}
