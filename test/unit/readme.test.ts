import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { configSchema } from "../../src/schemas/config.js";

const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
const ci = readFileSync(new URL("../../.ci/run", import.meta.url), "utf8");
const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8"));

/** The configuration reference, generated from the schema (test/unit/docs-generated.test.ts keeps it current). */
const configuration = readFileSync(new URL("../../docs/configuration.md", import.meta.url), "utf8");

describe("docs/configuration.md", () => {
  const defaults = configSchema.parse({}) as Record<string, unknown>;
  it.each(Object.keys(configSchema.shape))("documents %s with its default", (name) => {
    const row = configuration.split("\n").find((l) => l.startsWith(`| \`${name}\``));
    expect(row, `no table row for ${name}`).toBeDefined();
    const value = defaults[name];
    if (value !== undefined) expect(row).toContain(`\`${String(value)}\``);
  });
});

describe("README", () => {
  it("says what the published package ships, as package.json's files says: dist/src and schemas, no dist/bench", () => {
    expect(pkg.files).toEqual(["dist/src", "schemas"]);
    expect(readme).toMatch(
      /The published package ships `dist\/src` .*\n?.* and\s+`schemas` .* only: package\.json's `files`/,
    );
    expect(readme).toMatch(/`dist\/bench` and `dist\/chaos`[^.]*; neither is in the package/);
  });
  it("gives the two commands, and CI runs the test one after npm ci", () => {
    expect(readme).toContain("npm ci && npm start");
    expect(readme).toContain("npm test");
    expect(pkg.scripts.start).toBeDefined();
    expect(ci).toMatch(/npm ci[\s\S]*npm test/);
  });
  it("maps every folder of src/, and docs/development.md describes each (the map is the map of src/)", () => {
    const folders = readdirSync(new URL("../../src/", import.meta.url), { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name);
    expect(folders.length).toBeGreaterThan(10);
    const dev = readFileSync(new URL("../../docs/development.md", import.meta.url), "utf8");
    const map = readme.slice(readme.indexOf("## Development"));
    for (const folder of folders) {
      expect(map, `README's development map lacks ${folder}`).toMatch(new RegExp(`\\b${folder}\\b`));
      expect(dev, `docs/development.md lacks src/${folder}`).toContain(`src/${folder}`);
    }
  });
});
