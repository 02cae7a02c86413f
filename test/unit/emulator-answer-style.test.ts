import { describe, it, expect } from "vitest";
import { ERROR_TYPE_HEADER, omitFields, styleAnswer } from "../../src/emulator/answer-style.js";
import { OPTIONAL_OUTPUT_MEMBERS, resolveOmittable, SwitchBoard } from "../../src/emulator/switches.js";
import { errorResponse, frontDoorError, ok, protocolError } from "../../src/emulator/wire.js";

describe("styleAnswer", () => {
  it("with no switches returns the canonical answer", () => {
    const conflict = errorResponse("ConflictException", "m", { reason: "DUPLICATE_CONNECTION" });
    expect(styleAnswer(conflict, {})).toEqual({ ...conflict, headers: {} });
    const success = ok({ a: 1 });
    expect(styleAnswer(success, {})).toBe(success);
  });

  it("never mutates the answer it is given", () => {
    const body = { Connection: { ConnectionTypes: { SUBSIDIARY: { CanceledAt: "x", Status: "CANCELED" } } } };
    const success = ok(body);
    const styled = styleAnswer(success, {}, ["Connection.ConnectionTypes.*.CanceledAt"]);
    expect(styled.body).toEqual({ Connection: { ConnectionTypes: { SUBSIDIARY: { Status: "CANCELED" } } } });
    expect(body.Connection.ConnectionTypes.SUBSIDIARY.CanceledAt).toBe("x");

    const err = errorResponse("ThrottlingException", "slow");
    styleAnswer(err, { throttleStatus: 400, errorTypeLocation: "header" });
    expect(err.status).toBe(429);
    expect(err.body?.__type).toBe("com.amazonaws.partnercentralaccount#ThrottlingException");
  });

  it.each([
    [{ errorTypeFormat: "bare" as const }, "ConflictException", undefined],
    [{ errorTypeLocation: "header" as const }, undefined, "com.amazonaws.partnercentralaccount#ConflictException"],
    [
      { errorTypeLocation: "both" as const, errorTypeFormat: "coral" as const, errorNamespace: "ns.x" },
      "ConflictException:http://internal.amazon.com/coral/ns.x/",
      "ConflictException:http://internal.amazon.com/coral/ns.x/",
    ],
  ])("spells and places the error type: %j", (sw, bodyType, headerType) => {
    const styled = styleAnswer(errorResponse("ConflictException", "m"), sw);
    expect(styled.body?.__type).toBe(bodyType);
    expect(styled.headers?.[ERROR_TYPE_HEADER]).toBe(headerType);
    expect(styled.body).toMatchObject({ Message: "m", Reason: "INCOMPATIBLE_CONNECTION_INVITATION_STATE" });
  });

  it("keeps the front door's namespace when the service namespace is changed", () => {
    const styled = styleAnswer(frontDoorError("ExpiredTokenException", "m", 403), { errorNamespace: "ns.x" });
    expect(styled.body?.__type).toBe("com.amazon.coral.service#ExpiredTokenException");
  });

  it("empties 5xx bodies only, and leaves protocol errors alone", () => {
    const sw = { emptyServerErrorBodies: true, errorTypeLocation: "both" as const };
    const styled = styleAnswer(errorResponse("InternalServerException", "boom", { retryAfterSeconds: 1 }), sw);
    expect(styled.body).toBeUndefined();
    expect(styled.headers).toEqual({ "Retry-After": "1" });
    expect(styleAnswer(errorResponse("ValidationException", "bad"), sw).body).toBeDefined();
    expect(styleAnswer(protocolError("SerializationException", "x"), sw).body?.__type).toBe("SerializationException");
  });
});

describe("omitFields", () => {
  it("walks `*` over map values and list items", () => {
    const body = { L: [{ A: 1, B: 2 }, { A: 3 }], M: { k: { A: 1 } } };
    expect(omitFields(body, ["L.*.A", "M.*.A", "Missing.*.A"])).toEqual({ L: [{ B: 2 }, {}], M: { k: {} } });
  });
});

describe("resolveOmittable", () => {
  it("accepts a path or its unambiguous last segment, only for optional members", () => {
    expect(resolveOmittable("ListConnectionInvitations", "ExpiresAt")).toBe(
      "ConnectionInvitationSummaries.*.ExpiresAt",
    );
    expect(resolveOmittable("GetConnection", "ConnectionTypes.*.CanceledBy")).toBe("ConnectionTypes.*.CanceledBy");
    expect(() => resolveOmittable("GetConnectionInvitation", "Status")).toThrow(/not an optional output member/);
    expect(() => resolveOmittable("ListConnections", "NextToken")).toThrow(/optional: none/);
    expect(() => resolveOmittable("Nope", "Id")).toThrow(/unknown operation/);
  });

  it("lists every implemented operation", () => {
    expect(Object.keys(OPTIONAL_OUTPUT_MEMBERS).sort()).toEqual([
      "AcceptConnectionInvitation",
      "CancelConnectionInvitation",
      "CreateConnectionInvitation",
      "GetConnection",
      "GetConnectionInvitation",
      "ListConnectionInvitations",
      "ListConnections",
      "RejectConnectionInvitation",
    ]);
  });
});

describe("SwitchBoard", () => {
  it("turns switches off with undefined or null and keeps the others", () => {
    const board = new SwitchBoard({ throttleStatus: 400, hang: ["GetConnection"] });
    board.set({ throttleStatus: null, emptyServerErrorBodies: true });
    expect(board.settings).toEqual({ hang: ["GetConnection"], emptyServerErrorBodies: true });
    expect(board.hangs("GetConnection")).toBe(true);
    expect(board.hangs("AcceptConnectionInvitation")).toBe(false);
    expect(() => board.set({ bogus: undefined })).toThrow(/unknown switch/);
  });

  it("answers the conflict reason for a status, from one reason or a per-status map", () => {
    const board = new SwitchBoard({ stateConflictReason: "DUPLICATE_CONNECTION" });
    expect(board.conflictReasonFor("EXPIRED")).toBe("DUPLICATE_CONNECTION");
    board.set({ stateConflictReason: { ACCEPTED: "DUPLICATE_CONNECTION" } });
    expect(board.conflictReasonFor("ACCEPTED")).toBe("DUPLICATE_CONNECTION");
    expect(board.conflictReasonFor("EXPIRED")).toBeUndefined();
  });
});
