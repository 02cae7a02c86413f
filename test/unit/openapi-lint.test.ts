import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { buildOpenApiDocument } from "../../src/http/openapi.js";

/**
 * The OpenAPI document passes @redocly/cli's lint with the repo's rules (redocly.yaml:
 * recommended-strict, so a warning is an error too, plus problem details on every 4XX), and the
 * lint does fail a document that breaks those rules.
 */

const root = new URL("../..", import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), "openapi-lint-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface LintReport {
  totals: { errors: number; warnings: number };
  problems: Array<{ ruleId: string; severity: string; message: string; location: Array<{ pointer: string }> }>;
}

async function lint(doc: object, name: string): Promise<LintReport> {
  const file = join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify(doc, null, 2));
  const run = await promisify(execFile)(
    join(root, "node_modules/.bin/redocly"),
    ["lint", file, "--config", join(root, "redocly.yaml"), "--format", "json"],
    // No usage telemetry and no update check: the tests reach no network.
    { cwd: root, env: { ...process.env, REDOCLY_TELEMETRY: "off", REDOCLY_SUPPRESS_UPDATE_NOTICE: "true" } },
  ).catch((err: { stdout?: string; code?: number }) => ({ stdout: err.stdout ?? "", code: err.code }));
  return JSON.parse(run.stdout) as LintReport;
}

describe("redocly lint of the OpenAPI document", () => {
  it("finds no error and no warning in the document the server serves (= openapi.json)", async () => {
    const report = await lint(buildOpenApiDocument(), "generated");
    expect(report.problems.map((p) => `${p.ruleId}: ${p.message} at ${p.location[0]?.pointer}`)).toEqual([]);
    expect(report.totals).toEqual({ errors: 0, warnings: 0, ignored: 0 });
  }, 60_000);

  it("fails a document without servers, license, an operation's tags, 4XX answers or problem details", async () => {
    const doc = JSON.parse(JSON.stringify(buildOpenApiDocument()));
    delete doc.servers;
    delete doc.info.license;
    delete doc.paths["/healthz"].get.tags;
    doc.paths["/metrics"].get.responses = { "200": doc.paths["/metrics"].get.responses["200"] };
    doc.paths["/v1/acceptances/{id}"].get.responses["404"] = {
      description: "NOT_FOUND",
      content: { "application/json": { schema: { type: "object" } } },
    };
    const report = await lint(doc, "broken");
    expect(report.totals.errors).toBeGreaterThanOrEqual(5);
    expect(new Set(report.problems.map((p) => p.ruleId))).toEqual(
      new Set([
        "no-empty-servers",
        "info-license",
        "operation-tag-defined",
        "operation-4xx-response",
        "operation-4xx-problem-details-rfc7807",
      ]),
    );
  }, 60_000);
});
