import { describe, expect, it } from "vitest";
import { createBearerAuth } from "../../src/http/bearer-auth.js";

describe("createBearerAuth", () => {
  const verify = createBearerAuth(["old-token-0123456789", "new-token-abcdefghij"]);

  it.each([
    ["Bearer old-token-0123456789", true],
    ["Bearer new-token-abcdefghij", true],
    ["bearer  new-token-abcdefghij ", true],
    ["Bearer old-token-012345678", false],
    ["Bearer old-token-0123456789x", false],
    ["Bearer ", false],
    ["old-token-0123456789", false],
    ["Basic b2xkLXRva2VuLTAxMjM0NTY3ODk=", false],
    ["Bearer old-token-0123456789 new-token-abcdefghij", false],
  ])("%j → %s", (header, expected) => {
    expect(verify(header)).toBe(expected);
  });

  it("refuses a missing header, and everything when no token is configured", () => {
    expect(verify(undefined)).toBe(false);
    expect(createBearerAuth([])("Bearer anything-at-all-here")).toBe(false);
  });
});
