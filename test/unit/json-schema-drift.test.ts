import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { contractJsonSchemas } from "../../src/contracts/json-schema.js";
import { OUTCOME_TYPES } from "../../src/contracts/outcome.js";

describe("committed JSON Schemas", () => {
  it.each(Object.entries(contractJsonSchemas()))(
    "schemas/%s matches the zod schema (run `npm run schemas:export` after changing it)",
    (file, schema) => {
      const committed = JSON.parse(readFileSync(new URL(`../../schemas/${file}`, import.meta.url), "utf8"));
      expect(committed).toEqual(JSON.parse(JSON.stringify(schema)));
    },
  );
  it("the outcome schema is a union on type with one shape per outcome type", () => {
    const s = contractJsonSchemas()["outcome-event.schema.json"] as {
      oneOf: Array<{ properties: { type: { const: string } } }>;
    };
    expect(s.oneOf.map((b) => b.properties.type.const).sort()).toEqual([...OUTCOME_TYPES].sort());
  });
});
