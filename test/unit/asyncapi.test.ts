/**
 * The AsyncAPI 3 document (schemas/asyncapi.yaml) is valid, as @asyncapi/parser reads it, with its
 * payloads resolved from the JSON Schemas beside it.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { fromFile, Parser } from "@asyncapi/parser";
import { describe, expect, it } from "vitest";

const path = fileURLToPath(new URL("../../schemas/asyncapi.yaml", import.meta.url));

describe("the AsyncAPI document", () => {
  it(
    "parses without errors, with the outcomes queue, webhooks and the " + "stream, payloads from the JSON Schemas",
    async () => {
      const parser = new Parser();
      const { document, diagnostics } = await fromFile(parser, path).parse();
      const errors = diagnostics.filter((d) => d.severity === 0);
      expect(errors.map((e) => e.message)).toEqual([]);
      expect(document).toBeDefined();
      expect(document!.version()).toBe("3.0.0");
      expect(
        document!
          .channels()
          .all()
          .map((c) => c.id())
          .sort(),
      ).toEqual(["outcomesQueue", "stream", "webhooks"]);
      const outcome = document!.components().messages().get("outcome")!;
      const outcomeSchema = JSON.parse(
        readFileSync(new URL("../../schemas/outcome-event.schema.json", import.meta.url), "utf8"),
      );
      expect(outcome.payload()!.json()).toMatchObject({ $id: outcomeSchema.$id ?? expect.anything() });
    },
  );
});
