/**
 * AWS may answer otherwise than our emulator does by default, wherever its model leaves room: a
 * ConflictException for an accepted invitation with any Reason, and an ACCEPTED invitation without
 * its optional ConnectionId. Each answer is switched on in the emulator and goes through the real
 * SDK over HTTP; an accepted invitation must never be reported failed.
 */
import { afterEach, describe, expect, it } from "vitest";
import { startPipeline, type Pipeline } from "../helpers/pipeline.js";
import { waitForOutcomes } from "../helpers/outcomes.js";
import type { AcceptedOutcome, FailedOutcome } from "../../src/contracts/outcome.js";

let p: Pipeline | undefined;
afterEach(async () => {
  await p?.close();
  p = undefined;
});

describe("reconciliation without assumptions", () => {
  it.each(["DUPLICATE_CONNECTION", "INCOMPATIBLE_CONNECTION_STATE", "INCOMPATIBLE_CONNECTION_INVITATION_STATE"])(
    "an Accept answered ConflictException/%s for an accepted invitation is accepted (alreadyAccepted)",
    async (reason) => {
      p = await startPipeline({ label: "conflict", emulator: { stateConflictReason: { ACCEPTED: reason } } as never });
      const inv = p.emulator.seedInvitation({ status: "ACCEPTED" });
      await p.producer.enqueue({ catalog: inv.catalog, identifier: inv.identifier });
      await p.startWorker();
      const [event] = await waitForOutcomes(p.redis, p.prefix, 1);
      expect(p.emulator.calls({ operation: "AcceptConnectionInvitation" })[0]).toMatchObject({ status: 409, reason });
      expect(event).toMatchObject({ type: "accepted", alreadyAccepted: true });
      expect((event as AcceptedOutcome).connection!.Id).toBe(
        p.emulator.getInvitation(inv.catalog, inv.identifier)!.ConnectionId,
      );
    },
  );

  it("finds the connection with ListConnections when GetConnectionInvitation leaves ConnectionId out", async () => {
    p = await startPipeline({
      label: "noconnid",
      emulator: { omitOutputFields: { GetConnectionInvitation: ["ConnectionId"] } } as never,
    });
    // Other connections of the same partner and of other partners around it, so the search must pick.
    const inv = p.emulator.seedInvitation({ status: "ACCEPTED", otherParticipantAccountId: "111122223333" });
    p.emulator.seedInvitation({ status: "ACCEPTED", otherParticipantAccountId: "444455556666" });
    p.emulator.seedInvitation({
      status: "ACCEPTED",
      otherParticipantAccountId: "111122223333",
      connectionType: "SUBSIDIARY",
    });
    await p.producer.enqueue({ catalog: inv.catalog, identifier: inv.identifier });
    await p.startWorker();
    const [event] = await waitForOutcomes(p.redis, p.prefix, 1);
    expect(event).toMatchObject({ type: "accepted", alreadyAccepted: true, attempts: 1 });
    expect((event as AcceptedOutcome).connection!.Id).toBe(
      p.emulator.getInvitation(inv.catalog, inv.identifier)!.ConnectionId,
    );
    expect(p.emulator.calls({ operation: "ListConnections" }).length).toBeGreaterThanOrEqual(1);
    expect(p.emulator.calls({ operation: "AcceptConnectionInvitation" })).toHaveLength(1);
  });

  it(
    "an ACCEPTED invitation without ConnectionId whose connection cannot " +
      "be found: accepted, alreadyAccepted, connection null and why",
    async () => {
      // AWS leaves ConnectionId out, and lists only active connections: the other side canceled this one.
      p = await startPipeline({
        label: "noconnfound",
        emulator: {
          omitOutputFields: { GetConnectionInvitation: ["ConnectionId"] },
          listConnectionsActiveOnly: true,
        } as never,
      });
      const inv = p.emulator.seedInvitation({
        status: "ACCEPTED",
        connectionStatus: "CANCELED",
        otherParticipantAccountId: "111122223333",
      });
      // An active connection with another partner, and one of another type with the same partner: neither is it.
      p.emulator.seedInvitation({ status: "ACCEPTED", otherParticipantAccountId: "444455556666" });
      p.emulator.seedInvitation({
        status: "ACCEPTED",
        otherParticipantAccountId: "111122223333",
        connectionType: "SUBSIDIARY",
      });
      const r = await p.producer.enqueue({
        catalog: inv.catalog,
        identifier: inv.identifier,
        correlationId: "corr-noconn",
        metadata: { batch: "b-1" },
      });
      await p.startWorker();
      const [event] = await waitForOutcomes(p.redis, p.prefix, 1);
      expect(event).toEqual({
        schemaVersion: 1,
        eventId: expect.any(String),
        requestId: r.jobId,
        action: "accept",
        correlationId: "corr-noconn",
        metadata: { batch: "b-1" },
        catalog: inv.catalog,
        identifier: inv.identifier,
        clientToken: r.clientToken,
        attempts: 1,
        enqueuedAt: expect.any(String),
        completedAt: expect.any(String),
        type: "accepted",
        connection: null,
        awsRequestId: null,
        alreadyAccepted: true,
        reason:
          "the invitation is ACCEPTED, but GetConnectionInvitation named no ConnectionId and ListConnections " +
          `found no OPPORTUNITY_COLLABORATION connection with ${inv.otherParticipantIdentifier}`,
      });
      // The calls that led there, over HTTP: the Accept's 409, the look-up, the search that found nothing.
      expect(p.emulator.calls().map((c) => [c.operation, c.status])).toEqual([
        ["AcceptConnectionInvitation", 409],
        ["GetConnectionInvitation", 200],
        ["ListConnections", 200],
      ]);
      expect(p.emulator.calls({ operation: "ListConnections" })[0]!.input).toMatchObject({
        OtherParticipantIdentifiers: [inv.otherParticipantIdentifier],
        ConnectionType: "OPPORTUNITY_COLLABORATION",
      });
    },
  );

  it(
    "a ConflictException other than a state conflict on " + "a PENDING invitation fails at once, with the status",
    async () => {
      p = await startPipeline({ label: "tokenconflict" });
      const [a, b] = p.emulator.seedInvitations(2, { catalog: "AWS" });
      // The same explicit ClientToken for two invitations: AWS refuses the second (CONFLICT_CLIENT_TOKEN).
      await p.producer.enqueue({ catalog: a!.catalog, identifier: a!.identifier, clientToken: "shared-token-1" });
      await p.startWorker();
      await waitForOutcomes(p.redis, p.prefix, 1);
      await p.producer.enqueue({ catalog: b!.catalog, identifier: b!.identifier, clientToken: "shared-token-1" });
      const events = await waitForOutcomes(p.redis, p.prefix, 2);
      const failed = events.find((e) => e.identifier === b!.identifier) as FailedOutcome;
      expect(failed).toMatchObject({
        type: "failed",
        attempts: 1,
        error: {
          name: "ConflictException",
          reason: "CONFLICT_CLIENT_TOKEN",
          invitationStatus: "PENDING",
          retryable: false,
        },
      });
      expect(p.emulator.calls({ operation: "AcceptConnectionInvitation", identifier: b!.identifier })).toHaveLength(1);
    },
  );

  it(
    "a state conflict (INCOMPATIBLE_CONNECTION_INVITATION_STATE) on an invitation " +
      "still PENDING is retried, not failed: accepted on the next attempt",
    async () => {
      p = await startPipeline({ label: "pendingconflict" });
      const inv = p.emulator.seedInvitation();
      // AWS refuses the Accept for the invitation's state, yet the look-up after it reads PENDING
      // (a state in flux): the conflict may pass, so the request is retried with its own token.
      p.emulator.script({
        operation: "AcceptConnectionInvitation",
        identifier: inv.identifier,
        times: 1,
        error: "ConflictException",
        reason: "INCOMPATIBLE_CONNECTION_INVITATION_STATE",
      });
      const r = await p.producer.enqueue({ catalog: inv.catalog, identifier: inv.identifier });
      await p.startWorker();
      const [event] = await waitForOutcomes(p.redis, p.prefix, 1);
      expect(event).toMatchObject({ type: "accepted", requestId: r.jobId, alreadyAccepted: false, attempts: 2 });
      expect((event as AcceptedOutcome).connection!.Id).toBe(
        p.emulator.getInvitation(inv.catalog, inv.identifier)!.ConnectionId,
      );
      const accepts = p.emulator.calls({ operation: "AcceptConnectionInvitation" });
      expect(accepts.map((c) => c.status)).toEqual([409, 200]);
      expect(accepts[0]).toMatchObject({ reason: "INCOMPATIBLE_CONNECTION_INVITATION_STATE" });
      expect(new Set(accepts.map((c) => c.clientToken))).toEqual(new Set([r.clientToken]));
      // The look-up that found it PENDING came between the two calls.
      const lookup = p.emulator.calls({ operation: "GetConnectionInvitation" })[0];
      expect(lookup!.seq).toBeGreaterThan(accepts[0]!.seq);
      expect(lookup!.seq).toBeLessThan(accepts[1]!.seq);
    },
  );
});
