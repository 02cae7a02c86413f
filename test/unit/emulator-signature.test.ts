import { describe, it, expect } from "vitest";
import { checkSignature, formatAmzDate, parseAmzDate } from "../../src/emulator/signature.js";

const NOW = Date.UTC(2026, 10, 30, 12, 0, 0);
const AUTH =
  "AWS4-HMAC-SHA256 Credential=AKIDTEST/20261130/us-east-1/partnercentral-account/aws4_request, " +
  "SignedHeaders=host;x-amz-date, Signature=abc123";
const signed = { authorization: AUTH, amzDate: "20261130T120000Z" };

describe("amz dates", () => {
  it("parse and format X-Amz-Date", () => {
    expect(parseAmzDate("20261130T120000Z")).toBe(NOW);
    expect(formatAmzDate(NOW)).toBe("20261130T120000Z");
    expect(parseAmzDate("2026-11-30T12:00:00Z")).toBeUndefined();
    expect(parseAmzDate(undefined)).toBeUndefined();
  });
});

describe("checkSignature", () => {
  it("passes everything with every check off", () => {
    expect(checkSignature({}, {}, NOW)).toBeUndefined();
  });

  it.each([
    ["a signed request", {}, signed, undefined],
    ["no Authorization", { requireSignature: true }, {}, "MissingAuthenticationTokenException"],
    ["no X-Amz-Date", { requireSignature: true }, { authorization: AUTH }, "IncompleteSignatureException"],
    ["an unknown key", { knownAccessKeyIds: ["OTHER"] }, signed, "UnrecognizedClientException"],
    ["no key at all, when keys are known", { knownAccessKeyIds: ["AKIDTEST"] }, {}, "UnrecognizedClientException"],
    ["an expired token", { expiredSessionTokens: ["t"] }, { ...signed, securityToken: "t" }, "ExpiredTokenException"],
    ["a live token", { expiredSessionTokens: ["t"] }, { ...signed, securityToken: "u" }, undefined],
    ["exactly 5 min behind", { maxClockSkewSeconds: 300 }, { ...signed, amzDate: "20261130T115500Z" }, undefined],
    [
      "5 min 1 s behind",
      { maxClockSkewSeconds: 300 },
      { ...signed, amzDate: "20261130T115459Z" },
      "InvalidSignatureException",
    ],
    [
      "5 min 1 s ahead",
      { maxClockSkewSeconds: 300 },
      { ...signed, amzDate: "20261130T120501Z" },
      "InvalidSignatureException",
    ],
    [
      "no date with a skew check",
      { maxClockSkewSeconds: 300 },
      { authorization: AUTH },
      "IncompleteSignatureException",
    ],
  ])("%s", (_n, sw, headers, expected) => {
    expect(checkSignature(headers, sw, NOW)?.errorType).toBe(expected);
  });

  it("words the skew error as AWS does, and uses authErrorStatus", () => {
    const r = checkSignature(
      { ...signed, amzDate: "20261130T114000Z" },
      { maxClockSkewSeconds: 300, authErrorStatus: 400 },
      NOW,
    );
    expect(r?.status).toBe(400);
    expect(r?.body).toEqual({
      __type: "com.amazon.coral.service#InvalidSignatureException",
      message: "Signature expired: 20261130T114000Z is now earlier than 20261130T115500Z (20261130T120000Z - 5 min.)",
    });
  });

  it("checks in order: incomplete before unknown key before expired token before skew", () => {
    const everything = {
      requireSignature: true,
      knownAccessKeyIds: ["OTHER"],
      expiredSessionTokens: "all" as const,
      maxClockSkewSeconds: 1,
    };
    const h = { authorization: AUTH, amzDate: "20200101T000000Z", securityToken: "t" };
    expect(checkSignature({ ...h, authorization: "AWS4-HMAC-SHA256 x" }, everything, NOW)?.errorType).toBe(
      "IncompleteSignatureException",
    );
    expect(checkSignature(h, everything, NOW)?.errorType).toBe("UnrecognizedClientException");
    expect(checkSignature(h, { ...everything, knownAccessKeyIds: ["AKIDTEST"] }, NOW)?.errorType).toBe(
      "ExpiredTokenException",
    );
    expect(
      checkSignature(h, { ...everything, knownAccessKeyIds: ["AKIDTEST"], expiredSessionTokens: [] }, NOW)?.errorType,
    ).toBe("InvalidSignatureException");
  });
});
