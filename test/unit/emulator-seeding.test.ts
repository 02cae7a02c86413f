import { describe, it, expect } from "vitest";
import { builtInParticipant, spreadSeedInputs } from "../../src/emulator/seeding.js";

describe("spreadSeedInputs", () => {
  it("covers every combination once in the first (product of sizes) inputs, status varying fastest", () => {
    const inputs = spreadSeedInputs(2 * 3 * 2 * 2, {
      statuses: ["PENDING", "ACCEPTED"],
      catalogs: ["AWS", "Sandbox", "Other"],
      participants: 2,
    });
    const combos = inputs.map((i) => `${i.status}/${i.catalog}/${i.connectionType}/${i.otherParticipantAccountId}`);
    expect(new Set(combos).size).toBe(24);
    expect(inputs.slice(0, 3).map((i) => [i.status, i.catalog])).toEqual([
      ["PENDING", "AWS"],
      ["ACCEPTED", "AWS"],
      ["PENDING", "Sandbox"],
    ]);
  });

  it("defaults: catalog AWS, PENDING, both types, four named partners with their own domains", () => {
    const inputs = spreadSeedInputs(8);
    expect(new Set(inputs.map((i) => i.catalog))).toEqual(new Set(["AWS"]));
    expect(new Set(inputs.map((i) => i.status))).toEqual(new Set(["PENDING"]));
    expect(inputs.map((i) => i.emailDomain)).toEqual([
      "acme.example",
      "acme.example",
      "globex.example",
      "globex.example",
      "initech.example",
      "initech.example",
      "umbrella.example",
      "umbrella.example",
    ]);
  });

  it("pinned fields win over spread ones; undefined pins are ignored", () => {
    const inputs = spreadSeedInputs(4, {
      connectionType: "SUBSIDIARY",
      partnerName: "Pinned",
      otherParticipantAccountId: "000011112222",
      inviterEmail: undefined,
    });
    for (const i of inputs) {
      expect(i).toMatchObject({
        connectionType: "SUBSIDIARY",
        partnerName: "Pinned",
        otherParticipantAccountId: "000011112222",
      });
      expect(i).not.toHaveProperty("inviterEmail");
    }
  });

  it("email domains given as a list cycle independently of partners", () => {
    const inputs = spreadSeedInputs(3, { participants: 1, emailDomains: ["a.example", "b.example"] });
    expect(inputs.map((i) => i.emailDomain)).toEqual(["a.example", "b.example", "a.example"]);
  });

  it.each([
    ["a negative count", -1, {}],
    ["an empty catalogs list", 1, { catalogs: [] }],
    ["an empty participants list", 1, { participants: [] }],
    ["participants 1.5", 1, { participants: 1.5 }],
  ])("refuses %s", (_n, n, input) => {
    expect(() => spreadSeedInputs(n, input)).toThrow();
  });
});

describe("builtInParticipant", () => {
  it("continues past the named partners with valid, distinct ids", () => {
    const ps = Array.from({ length: 12 }, (_, k) => builtInParticipant(k));
    expect(new Set(ps.map((p) => p.accountId)).size).toBe(12);
    for (const p of ps) {
      expect(p.accountId).toMatch(/^[0-9]{12}$/);
      expect(p.profileId).toMatch(/^pprofile-[A-Za-z0-9]{13}$/);
    }
  });
});
