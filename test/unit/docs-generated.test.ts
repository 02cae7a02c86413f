import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { commands } from "../../src/cli/commands/index.js";
import { buildProgram } from "../../src/cli/program.js";
import { cliReference } from "../../src/cli/reference.js";
import { configurationReference, configVariables } from "../../src/config/reference.js";
import { configSchema } from "../../src/schemas/config.js";

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), "utf8");
const source = read("src/schemas/config.ts");

describe("generated docs (npm run docs:generate)", () => {
  it("docs/cli-reference.md is the commander tree's help, every command", () => {
    const generated = cliReference(buildProgram(commands));
    expect(read("docs/cli-reference.md"), "docs/cli-reference.md drifted: run npm run docs:generate").toBe(generated);
    for (const def of commands) expect(generated).toContain(`## pc-invitations ${def.name}\n`);
  });

  it("docs/configuration.md is the config schema, every variable with its default and description", () => {
    expect(read("docs/configuration.md"), "docs/configuration.md drifted: run npm run docs:generate").toBe(
      configurationReference(source),
    );
    const described = configVariables(source).filter((v) => v.description === "");
    expect(
      described.map((v) => v.name),
      "variables without a /** comment */ in src/schemas/config.ts",
    ).toEqual([]);
    expect(configVariables(source).map((v) => v.name)).toEqual(Object.keys(configSchema.shape));
  });
});
