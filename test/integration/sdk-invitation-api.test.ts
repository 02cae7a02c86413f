import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PartnerCentralEmulator } from "../../src/emulator/index.js";
import { createSdkInvitationApi } from "../../src/aws/sdk-invitation-api.js";
import { invitationSchema } from "../../src/schemas/invitation.js";
import { TEST_CREDENTIALS } from "../helpers/pipeline.js";

let emulator: PartnerCentralEmulator;
let api: ReturnType<typeof createSdkInvitationApi>;
beforeAll(async () => {
  emulator = await PartnerCentralEmulator.start();
  api = createSdkInvitationApi({ endpoint: emulator.url, credentials: TEST_CREDENTIALS });
});
afterAll(async () => {
  api.destroy();
  await emulator.close();
});

describe("the SDK adapter (real SDK, emulator over HTTP)", () => {
  it("rejects with our ClientToken and Reason, and returns the invitation record with ISO-8601 timestamps", async () => {
    emulator.reset();
    const inv = emulator.seedInvitation();
    const out = await api.rejectInvitation({ catalog: inv.catalog, identifier: inv.identifier, clientToken: "reject-token-1", reason: "Not a fit" });
    expect(out.invitation).toMatchObject({ Id: inv.identifier, Catalog: inv.catalog, Status: "REJECTED", OtherParticipantIdentifier: inv.otherParticipantIdentifier });
    expect(out.invitation.UpdatedAt).toMatch(/^\d{4}-\d\d-\d\dT.*Z$/);
    expect(invitationSchema.safeParse(out.invitation).success).toBe(true);
    expect(out.awsRequestId).toMatch(/.+/);
    const [call] = emulator.calls({ operation: "RejectConnectionInvitation" });
    expect(call).toMatchObject({ clientToken: "reject-token-1", input: { Reason: "Not a fit" } });
    // The same token and input: AWS replays the first answer.
    const again = await api.rejectInvitation({ catalog: inv.catalog, identifier: inv.identifier, clientToken: "reject-token-1", reason: "Not a fit" });
    expect(again.invitation).toEqual(out.invitation);
    expect(emulator.calls({ operation: "RejectConnectionInvitation" })[1]!.replayed).toBe(true);
  });

  it("sends no Reason when there is none", async () => {
    emulator.reset();
    const inv = emulator.seedInvitation();
    await api.rejectInvitation({ catalog: inv.catalog, identifier: inv.identifier, clientToken: "reject-token-2" });
    expect(emulator.calls({ operation: "RejectConnectionInvitation" })[0]!.input).not.toHaveProperty("Reason");
  });

  it("reads the whole invitation record, the inviter's e-mail included", async () => {
    emulator.reset();
    const inv = emulator.seedInvitation({ emailDomain: "acme.example" });
    const out = await api.getInvitation({ catalog: inv.catalog, identifier: inv.identifier });
    expect(out).toMatchObject({ status: "PENDING", connectionId: null, otherParticipantIdentifier: inv.otherParticipantIdentifier, connectionType: inv.connectionType });
    expect(out.invitation.InviterEmail).toBe(inv.inviterEmail);
    expect(out.invitation.InviterEmail).toMatch(/@acme\.example$/);
    expect(out.awsRequestId).toMatch(/.+/);
  });

  it("lists invitations with filters, one page at a time, following NextToken", async () => {
    emulator.reset();
    const pending = emulator.seedInvitations(7, { catalog: "Sandbox" });
    emulator.seedInvitations(3, { catalog: "Sandbox", status: "ACCEPTED" });
    emulator.seedInvitations(2, { catalog: "Sandbox", participantType: "SENDER" });
    const seen: string[] = [];
    let nextToken: string | undefined;
    let pages = 0;
    do {
      const page = await api.listInvitations({ catalog: "Sandbox", participantType: "RECEIVER", status: "PENDING", maxResults: 3, ...(nextToken ? { nextToken } : {}) });
      pages++;
      expect(page.invitations.length).toBeLessThanOrEqual(3);
      for (const s of page.invitations) {
        expect(s).toMatchObject({ catalog: "Sandbox", status: "PENDING", participantType: "RECEIVER" });
        expect(s.createdAt).toMatch(/^\d{4}-/);
        seen.push(s.identifier);
      }
      nextToken = page.nextToken ?? undefined;
    } while (nextToken);
    expect(pages).toBe(3);
    expect(seen.sort()).toEqual(pending.map((p) => p.identifier).sort());
    const call = emulator.calls({ operation: "ListConnectionInvitations" })[0]!;
    expect(call.input).toMatchObject({ Catalog: "Sandbox", ParticipantType: "RECEIVER", Status: "PENDING", MaxResults: 3 });
  });
});
