import { describe, expect, it } from "vitest";
import {
  connectionTypeFromEvent,
  kindOfDetailType,
  readPartnerEvent,
  readPartnerEventValue,
} from "../../src/schemas/partnercentral-events.js";
import { canceledEvent, connectionCanceledEvent, expiredEvent, receivedEvent } from "../helpers/partner-events.js";

describe("Partner Central events (documented shapes and quirks)", () => {
  it.each([
    ["OpportunityCollaboration", "OPPORTUNITY_COLLABORATION"],
    ["Subsidiary", "SUBSIDIARY"],
    ["OPPORTUNITY_COLLABORATION", "OPPORTUNITY_COLLABORATION"],
    ["opportunity-collaboration", "OPPORTUNITY_COLLABORATION"],
    ["SomethingNew", null],
  ])("maps the connection type %s onto the API's %s", (spelling, api) => {
    expect(connectionTypeFromEvent(spelling)).toBe(api);
  });

  it.each([
    ["Partner Connection Invitation Cancelled", "canceled"],
    ["Partner Connection Invitation Canceled", "canceled"],
    ["Partner Connection Cancelled", "connection-canceled"],
    ["Partner Connection Invitation Received", "received"],
    ["Partner Connection Invitation Expired", "expired"],
    ["Partner Connection Invitation Whatever", "unknown"],
  ])("reads %s as %s", (detailType, kind) => {
    expect(kindOfDetailType(detailType)).toBe(kind);
  });

  it(
    "reads a Received event: the sender's profile, the mapped type, the " + "inviter's e-mail; unknown fields named",
    () => {
      const r = readPartnerEvent(JSON.stringify(receivedEvent("pacinv-ABCDEFGHIJKLM", { extra: { newThing: true } })));
      expect(r).toMatchObject({
        ok: true,
        event: {
          kind: "received",
          catalog: "AWS",
          invitation: {
            id: "pacinv-ABCDEFGHIJKLM",
            senderProfileId: "pprofile-SENDER0000001",
            apiConnectionType: "OPPORTUNITY_COLLABORATION",
            inviterEmail: "abc@def.com",
          },
          unknownFields: ["detail.connectionInvitation.newThing"],
          unexpectedVersion: false,
        },
      });
    },
  );

  it("reads Expired without `account` (as the guide's example), Cancelled, and Partner Connection Cancelled", () => {
    expect(readPartnerEventValue(expiredEvent("pacinv-ABCDEFGHIJKLM"))).toMatchObject({
      ok: true,
      event: { kind: "expired", account: null },
    });
    expect(readPartnerEventValue(canceledEvent("pacinv-ABCDEFGHIJKLM"))).toMatchObject({ event: { kind: "canceled" } });
    expect(readPartnerEventValue(connectionCanceledEvent("pac-ABCDEFGHIJKLM"))).toMatchObject({
      event: { kind: "connection-canceled", connection: { id: "pac-ABCDEFGHIJKLM", canceledBy: "444455556666" } },
    });
  });

  it("tolerates an unknown detail type and another version (read, to be logged)", () => {
    const e = { ...receivedEvent("pacinv-ABCDEFGHIJKLM"), "detail-type": "Partner Something New", version: "2" };
    expect(readPartnerEventValue(e)).toMatchObject({ ok: true, event: { kind: "unknown", unexpectedVersion: true } });
  });

  it.each([
    ["not JSON", "{", /^\(body\): must be JSON/],
    [
      "another source",
      JSON.stringify({ ...receivedEvent("pacinv-ABCDEFGHIJKLM"), source: "aws.ec2" }),
      /^source: must be "aws.partnercentral-account"/,
    ],
    ["no catalog", JSON.stringify({ ...receivedEvent("pacinv-ABCDEFGHIJKLM"), detail: {} }), /^detail.catalog: /],
    ["a bad invitation id", JSON.stringify(receivedEvent("pacinv-x")), /^detail.connectionInvitation.id: must match/],
    [
      "a Received without its invitation",
      JSON.stringify({ ...receivedEvent("pacinv-ABCDEFGHIJKLM"), detail: { catalog: "AWS" } }),
      /^detail.connectionInvitation: must be an object/,
    ],
  ])("refuses %s, naming the field and the rule", (_what, body, problem) => {
    const r = readPartnerEvent(body);
    expect(r.ok).toBe(false);
    expect(r.ok ? "" : r.problem).toMatch(problem);
  });
});
