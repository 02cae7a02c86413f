import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ERROR_CODES, PROBLEM_TYPES, problemTypeUri } from "../../src/http/problem-types.js";

const doc = readFileSync(new URL("../../docs/http-api.md", import.meta.url), "utf8");

describe("docs/http-api.md's problem types", () => {
  it("lists every kind with its type, code, status and title, as src/http/problem-types.ts has them", () => {
    const rows = doc
      .split("\n")
      .filter((line) => line.startsWith("| `/problems/"))
      .map((line) => line.split(" | ").slice(0, 4));
    expect(rows).toEqual(
      ERROR_CODES.map((code) => [
        `| \`${problemTypeUri(code)}\``,
        `\`${code}\``,
        String(PROBLEM_TYPES[code].status),
        PROBLEM_TYPES[code].title,
      ]),
    );
  });
});
