import { describe, expect, it } from "vitest";
import { parseSince } from "../../src/cli/history-output.js";
import { GENESIS_HASH, rowHash, type ChainedRow } from "../../src/history/chain.js";
import { csvField } from "../../src/history/export.js";
import { historyColumns, isHistoryInput } from "../../src/history/history-row.js";
import { parseDuration } from "../../src/schemas/duration.js";

const row: ChainedRow = {
  seq: 1,
  eventId: "e",
  type: "accepted",
  requestId: null,
  catalog: "AWS",
  identifier: "pacinv-1",
  partner: null,
  connectionId: null,
  action: "accept",
  decidedBy: null,
  policyRule: null,
  policyHash: null,
  awsRequestId: null,
  occurredAt: "2026-12-01T00:00:00.000Z",
  recordedAt: "2026-12-01T00:00:00.000Z",
  body: "{}",
};

describe("rowHash", () => {
  it("changes with every column and with the hash before", () => {
    const base = rowHash(GENESIS_HASH, row);
    expect(base).toMatch(/^[0-9a-f]{64}$/);
    expect(rowHash("1".repeat(64), row)).not.toBe(base);
    for (const [key, value] of Object.entries({ seq: 2, decidedBy: "x", policyRule: 0, body: "{ }", partner: "p" })) {
      expect(rowHash(GENESIS_HASH, { ...row, [key]: value }), key).not.toBe(base);
    }
    // null and the empty string differ
    expect(rowHash(GENESIS_HASH, { ...row, requestId: "" })).not.toBe(base);
  });
});

describe("historyColumns", () => {
  it("reads a failed outcome's AWS request id, a rejected invitation's partner, a decision", () => {
    const at = "2026-12-02T00:00:00.000Z";
    expect(
      historyColumns(
        { eventId: "e", type: "failed", error: { awsRequestId: "r-1" }, completedAt: "2026-12-01T00:00:00Z" },
        at,
      ),
    ).toMatchObject({ awsRequestId: "r-1", occurredAt: "2026-12-01T00:00:00.000Z" });
    expect(
      historyColumns(
        { eventId: "e", type: "rejected", invitation: { OtherParticipantIdentifier: "111122223333" } },
        at,
      ),
    ).toMatchObject({ partner: "111122223333", occurredAt: at });
    expect(
      historyColumns({ eventId: "e", type: "accepted", decidedBy: "bob", heldBy: { rule: 0, policyHash: "h" } }, at),
    ).toMatchObject({ decidedBy: "bob", policyRule: 0, policyHash: "h" });
  });
  it("takes only objects with an eventId and a type", () => {
    expect(
      [{ eventId: "e", type: "t" }, { eventId: "", type: "t" }, { type: "t" }, null, []].map(isHistoryInput),
    ).toEqual([true, false, false, false, false]);
  });
});

describe("csvField", () => {
  it("quotes commas, quotes and line breaks; defuses what a spreadsheet reads as a formula", () => {
    expect(csvField("plain")).toBe("plain");
    expect(csvField('a,"b"')).toBe('"a,""b"""');
    expect(csvField("=HYPERLINK(1)")).toBe(`"'=HYPERLINK(1)"`);
    expect(csvField(-1)).toBe("-1");
    expect(csvField(null)).toBe("");
  });
});

describe("parseSince", () => {
  it("takes a duration back from now or an ISO-8601 time, refuses anything else", () => {
    expect(parseSince("1d", parseDuration, 86_400_000 * 2)?.getTime()).toBe(86_400_000);
    expect(parseSince("2026-12-01T00:00:00Z", parseDuration)?.toISOString()).toBe("2026-12-01T00:00:00.000Z");
    expect(parseSince(undefined, parseDuration)).toBeUndefined();
    expect(() => parseSince("yesterday", parseDuration)).toThrow(/--since must be/);
  });
});
