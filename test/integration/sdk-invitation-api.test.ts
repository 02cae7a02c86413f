import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PartnerCentralEmulator } from "../../src/emulator/index.js";
import { createSdkInvitationApi } from "../../src/aws/sdk-invitation-api.js";
import { invitationSchema } from "../../src/schemas/invitation.js";
import { TEST_CREDENTIALS } from "../helpers/pipeline.js";
import { reject } from "../../src/operations/reject.js";
import { accept } from "../../src/operations/accept.js";

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
  it(
    "rejects with our ClientToken and Reason, and returns " + "the invitation record with ISO-8601 timestamps",
    async () => {
      emulator.reset();
      const inv = emulator.seedInvitation();
      const out = await reject.call(api, {
        catalog: inv.catalog,
        identifier: inv.identifier,
        clientToken: "reject-token-1",
        request: { reason: "Not a fit" },
      });
      expect(out.invitation).toMatchObject({
        Id: inv.identifier,
        Catalog: inv.catalog,
        Status: "REJECTED",
        OtherParticipantIdentifier: inv.otherParticipantIdentifier,
      });
      expect(out.invitation.UpdatedAt).toMatch(/^\d{4}-\d\d-\d\dT.*Z$/);
      expect(invitationSchema.safeParse(out.invitation).success).toBe(true);
      expect(out.awsRequestId).toMatch(/.+/);
      const [call] = emulator.calls({ operation: "RejectConnectionInvitation" });
      expect(call).toMatchObject({ clientToken: "reject-token-1", input: { Reason: "Not a fit" } });
      // The same token and input: AWS replays the first answer.
      const again = await reject.call(api, {
        catalog: inv.catalog,
        identifier: inv.identifier,
        clientToken: "reject-token-1",
        request: { reason: "Not a fit" },
      });
      expect(again.invitation).toEqual(out.invitation);
      expect(emulator.calls({ operation: "RejectConnectionInvitation" })[1]!.replayed).toBe(true);
    },
  );

  it("sends no Reason when there is none", async () => {
    emulator.reset();
    const inv = emulator.seedInvitation();
    await reject.call(api, {
      catalog: inv.catalog,
      identifier: inv.identifier,
      clientToken: "reject-token-2",
      request: {},
    });
    expect(emulator.calls({ operation: "RejectConnectionInvitation" })[0]!.input).not.toHaveProperty("Reason");
  });

  it("reads the whole invitation record, the inviter's e-mail included", async () => {
    emulator.reset();
    const inv = emulator.seedInvitation({ emailDomain: "acme.example" });
    const out = await api.getInvitation({ catalog: inv.catalog, identifier: inv.identifier });
    expect(out).toMatchObject({
      status: "PENDING",
      connectionId: null,
      otherParticipantIdentifier: inv.otherParticipantIdentifier,
      connectionType: inv.connectionType,
    });
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
      const page = await api.listInvitations({
        catalog: "Sandbox",
        participantType: "RECEIVER",
        status: "PENDING",
        maxResults: 3,
        ...(nextToken ? { nextToken } : {}),
      });
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
    expect(call.input).toMatchObject({
      Catalog: "Sandbox",
      ParticipantType: "RECEIVER",
      Status: "PENDING",
      MaxResults: 3,
    });
  });
});

describe("the SDK adapter's hard bound on a call", () => {
  /** The call's settlement, or "still running" if it has not settled within `ms` (a loose bound). */
  const settled = (call: Promise<unknown>, ms = 20_000) =>
    Promise.race([
      call.then(
        () => "answered",
        (err: unknown) => err,
      ),
      new Promise((resolve) => setTimeout(() => resolve("still running"), ms)),
    ]);
  const neverAnswers = () => new Promise<never>(() => undefined);

  it(
    "ends a call that never reaches the wire (a credential provider that " +
      "never answers) at AWS_REQUEST_TIMEOUT_MS: TimeoutError, ETIMEDOUT",
    async () => {
      emulator.reset();
      const inv = emulator.seedInvitation();
      const stuck = createSdkInvitationApi({
        endpoint: emulator.url,
        credentials: neverAnswers,
        requestTimeoutMs: 300,
      });
      try {
        const result = await settled(
          accept.call(stuck, {
            catalog: inv.catalog,
            identifier: inv.identifier,
            clientToken: "stuck-token-1",
            request: {},
          }),
        );
        expect(result).toMatchObject({
          name: "TimeoutError",
          code: "ETIMEDOUT",
          message: expect.stringContaining("AWS_REQUEST_TIMEOUT_MS"),
        });
        expect(emulator.calls()).toHaveLength(0);
      } finally {
        stuck.destroy();
      }
    },
  );

  it(
    "ends such a call when the caller's signal aborts (a run " +
      "that lost its lock, a shutdown), long before the timeout",
    async () => {
      emulator.reset();
      const inv = emulator.seedInvitation();
      const stuck = createSdkInvitationApi({
        endpoint: emulator.url,
        credentials: neverAnswers,
        requestTimeoutMs: 600_000,
      });
      try {
        const controller = new AbortController();
        const call = stuck.getInvitation(
          { catalog: inv.catalog, identifier: inv.identifier },
          { signal: controller.signal },
        );
        setTimeout(() => controller.abort(new Error("lock lost")), 100);
        expect(await settled(call)).toMatchObject({ name: "AbortError" });
        expect(emulator.calls()).toHaveLength(0);
      } finally {
        stuck.destroy();
      }
    },
  );
});
