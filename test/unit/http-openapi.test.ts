import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { buildOpenApiDocument } from "../../src/http/openapi.js";
import { configSchema } from "../../src/schemas/config.js";

type Json = Record<string, any>;
const doc = buildOpenApiDocument() as Json;

function refs(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) for (const v of value) refs(v, out);
  else if (value && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) {
      if (k === "$ref" && typeof v === "string") out.push(v);
      else refs(v, out);
    }
  }
  return out;
}

describe("OpenAPI document", () => {
  it("matches the committed openapi.json (run `npm run openapi:export` after changing a schema)", () => {
    const committed = JSON.parse(readFileSync(new URL("../../openapi.json", import.meta.url), "utf8"));
    expect(committed).toEqual(JSON.parse(JSON.stringify(doc)));
  });

  it("is generated with HTTP_MAX_BATCH's default", () => {
    expect(doc.components.schemas.BatchRequest.properties.requests.maxItems).toBe(
      configSchema.parse({}).HTTP_MAX_BATCH,
    );
    expect(
      (buildOpenApiDocument({ maxBatch: 7 }) as Json).components.schemas.BatchRequest.properties.requests.maxItems,
    ).toBe(7);
  });

  it("is OpenAPI 3.1 whose every $ref resolves inside the document (no JSON Schema $defs left)", () => {
    expect(doc.openapi).toBe("3.1.0");
    const all = refs(doc);
    expect(all.length).toBeGreaterThan(10);
    for (const ref of all) {
      expect(ref, ref).toMatch(/^#\/components\/(schemas|responses)\/[A-Za-z]+$/);
      const [, , kind, name] = ref.split("/");
      expect(doc.components[kind!][name!], ref).toBeDefined();
    }
    expect(JSON.stringify(doc)).not.toContain("$defs");
  });

  it("documents every route with its status codes, and bearer auth except on the public ones", () => {
    const ops = doc.paths as Record<string, Record<string, Json>>;
    expect(Object.keys(ops["/v1/acceptances"]!.post!.responses).sort()).toEqual([
      "202",
      "400",
      "401",
      "409",
      "413",
      "415",
      "503",
    ]);
    expect(Object.keys(ops["/v1/acceptances/batch"]!.post!.responses).sort()).toEqual([
      "202",
      "400",
      "401",
      "409",
      "413",
      "415",
      "503",
    ]);
    expect(Object.keys(ops["/v1/acceptances/{id}"]!.get!.responses).sort()).toEqual([
      "200",
      "400",
      "401",
      "404",
      "503",
    ]);
    expect(Object.keys(ops["/v1/acceptances/{id}/cancel"]!.post!.responses).sort()).toEqual([
      "200",
      "400",
      "401",
      "404",
      "409",
      "501",
      "503",
    ]);
    expect(Object.keys(ops["/v1/discoveries"]!.post!.responses).sort()).toEqual([
      "200",
      "400",
      "401",
      "413",
      "415",
      "501",
      "502",
      "503",
    ]);
    expect(Object.keys(ops["/v1/redrives"]!.post!.responses).sort()).toEqual([
      "200",
      "400",
      "401",
      "413",
      "415",
      "501",
      "503",
    ]);
    expect(doc.components.schemas.DiscoveryRequest.properties.policy).toBeDefined();
    expect(doc.components.schemas.RedriveRequest.properties.since.type).toBe("string");
    for (const path of ["/healthz", "/readyz", "/metrics", "/openapi.json"])
      expect(ops[path]!.get!.security, path).toEqual([]);
    expect(doc.security).toEqual([{ bearer: [] }]);
    expect(doc.components.schemas.AcceptRequest.properties.catalog.description).toMatch(/catalog/i);
  });
});
