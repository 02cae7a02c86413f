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
    const codes = (path: string, method: string) => Object.keys(ops[path]![method]!.responses).sort();
    const any = ["4XX", "5XX"];
    const authed = ["401", "403", "503", ...any];
    expect(codes("/v1/acceptances", "post")).toEqual(["202", "400", "413", "415", "422", ...authed].sort());
    expect(codes("/v1/acceptances/batch", "post")).toEqual(["202", "400", "413", "415", "422", ...authed].sort());
    expect(codes("/v1/acceptances/{id}", "get")).toEqual(["200", "400", "404", ...authed].sort());
    expect(codes("/v1/acceptances/{id}/cancel", "post")).toEqual(["200", "400", "404", "409", "501", ...authed].sort());
    expect(codes("/v1/discoveries", "post")).toEqual(["200", "400", "413", "415", "501", "502", ...authed].sort());
    expect(codes("/v1/redrives", "post")).toEqual(["200", "400", "413", "415", "501", ...authed].sort());
    for (const path of ["/healthz", "/metrics", "/openapi.json", "/docs"])
      expect(codes(path, "get"), path).toEqual(["200", "503", ...any].sort());
    expect(codes("/readyz", "get")).toEqual(["200", "503", ...any].sort());
    expect(doc.components.schemas.DiscoveryRequest.properties.policy).toBeDefined();
    expect(doc.components.schemas.RedriveRequest.properties.since.type).toBe("string");
    for (const path of ["/healthz", "/readyz", "/metrics", "/openapi.json", "/docs", "/problems/{kind}"])
      expect(ops[path]!.get!.security, path).toEqual([]);
    expect(doc.security).toEqual([{ bearer: [] }]);
    expect(doc.components.schemas.AcceptRequest.properties.catalog.description).toMatch(/catalog/i);
    expect(codes("/v1/outcomes", "get")).toEqual(["200", "400", ...authed].sort());
    expect(Object.keys(ops["/v1/outcomes/stream"]!.get!.responses["200"].content)).toEqual(["text/event-stream"]);
    expect(codes("/v1/webhooks", "post")).toEqual(["201", "400", "413", "415", ...authed].sort());
    expect(codes("/v1/webhooks/{id}", "delete")).toEqual(["204", "404", ...authed].sort());
    expect(codes("/v1/webhooks/{id}/rotate-secret", "post")).toEqual(["200", "404", ...authed].sort());
    expect(doc.components.schemas.WebhookEndpoint.properties.secret).toBeUndefined();
    expect(doc.components.schemas.WebhookCreated.required).toContain("secret");
  });

  it("has servers, license, tags on every operation, descriptions, and problem+json for every 4XX/5XX answer", () => {
    expect(doc.servers).toEqual([{ url: "/", description: expect.any(String) }]);
    expect(doc.info.license).toEqual({ name: "MIT", identifier: "MIT" });
    expect(doc.info.description.length).toBeGreaterThan(100);
    const tags = new Set((doc.tags as Json[]).map((t) => t.name));
    const resolve = (r: Json): Json => (r.$ref ? doc.components.responses[String(r.$ref).split("/").pop()!] : r);
    let errorAnswers = 0;
    for (const [path, methods] of Object.entries(doc.paths as Record<string, Record<string, Json>>)) {
      for (const [method, op] of Object.entries(methods)) {
        const what = `${method.toUpperCase()} ${path}`;
        expect(op.tags?.length, what).toBeGreaterThan(0);
        for (const tag of op.tags) expect(tags.has(tag), `${what}: ${tag}`).toBe(true);
        expect(op.description, what).toEqual(expect.any(String));
        expect(
          Object.keys(op.responses).some((c) => c.startsWith("4")),
          what,
        ).toBe(true);
        expect(
          Object.keys(op.responses).some((c) => c.startsWith("5")),
          what,
        ).toBe(true);
        for (const [status, r] of Object.entries(op.responses as Record<string, Json>)) {
          if (!/^[45]/.test(status)) continue;
          errorAnswers++;
          const content = resolve(r).content as Json;
          expect(content["application/problem+json"]?.schema, `${what} ${status}`).toEqual({
            $ref: "#/components/schemas/Problem",
          });
        }
      }
    }
    expect(errorAnswers).toBeGreaterThan(50);
    // The examples are the answers the server builds (same functions), with the kind's status.
    for (const [name, r] of Object.entries(doc.components.responses as Record<string, Json>)) {
      const example = r.content["application/problem+json"].example as Json;
      expect(example.type, name).toMatch(/^\/problems\/[a-z-]+$/);
      expect(example.code, name).toBe(example.error);
    }
  });
});
