// npm run docs:generate: docs/cli-reference.md from the commander tree, docs/configuration.md from
// the config schema (run after `npm run build`; test/unit/docs-generated.test.ts fails when they drift).
import { readFileSync, writeFileSync } from "node:fs";
import { commands } from "../dist/src/cli/commands/index.js";
import { buildProgram } from "../dist/src/cli/program.js";
import { cliReference } from "../dist/src/cli/reference.js";
import { configurationReference } from "../dist/src/config/reference.js";

const root = new URL("../", import.meta.url);
writeFileSync(new URL("docs/cli-reference.md", root), cliReference(buildProgram(commands)));
const source = readFileSync(new URL("src/schemas/config.ts", root), "utf8");
writeFileSync(new URL("docs/configuration.md", root), configurationReference(source));
process.stdout.write("wrote docs/cli-reference.md and docs/configuration.md\n");
