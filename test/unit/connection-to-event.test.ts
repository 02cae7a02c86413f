import { describe, expect, it } from "vitest";
import { connectionToEvent } from "../../src/aws/connection-to-event.js";
import { connectionSchema } from "../../src/schemas/connection.js";

describe("connectionToEvent", () => {
  it("turns Dates into ISO strings and keeps unknown union members, map keys and enum values", () => {
    const sdk = {
      Catalog: "AWS",
      Id: "pac-ABCDEFGHIJKLM",
      Arn: "arn:aws:partnercentral:us-east-1::catalog/AWS/connection/pac-ABCDEFGHIJKLM",
      OtherParticipantAccountId: "123456789012",
      UpdatedAt: new Date("2025-11-20T10:11:12.345Z"),
      ConnectionTypes: {
        OPPORTUNITY_COLLABORATION: {
          CreatedAt: new Date("2025-11-20T10:11:12Z"),
          InviterEmail: "a@b.com",
          InviterName: "Alice",
          Status: "ACTIVE",
          CanceledAt: undefined,
          OtherParticipant: { SellerProfile: { Id: "seller-1", Name: "S" } },
        },
        FUTURE_TYPE: {
          CreatedAt: new Date("2025-11-20T10:11:12Z"),
          InviterEmail: "a@b.com",
          InviterName: "Alice",
          Status: "NEW_STATUS",
          OtherParticipant: { $unknown: ["FutureProfile", { Id: "x", Extra: [1, 2] }] },
        },
      },
    };
    const ev = connectionToEvent(sdk);
    expect(ev.UpdatedAt).toBe("2025-11-20T10:11:12.345Z");
    expect(ev.ConnectionTypes.OPPORTUNITY_COLLABORATION).not.toHaveProperty("CanceledAt");
    expect(ev.ConnectionTypes.FUTURE_TYPE!.Status).toBe("NEW_STATUS");
    expect(ev.ConnectionTypes.FUTURE_TYPE!.OtherParticipant).toEqual({ FutureProfile: { Id: "x", Extra: [1, 2] } });
    // The outcome schema keeps all of it.
    expect(connectionSchema.parse(ev)).toEqual(ev);
  });
});
