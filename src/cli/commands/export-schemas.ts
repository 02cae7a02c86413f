import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { contractJsonSchemas } from "../../contracts/json-schema.js";
import { defineCommand } from "../define-command.js";

export const exportSchemas = defineCommand({
  name: "export-schemas",
  summary: "write the JSON Schema of the request, the outcome event and the discovery policy",
  args: ["[dir]"],
  details: "DIR defaults to schemas.",
  run: ({ positionals }) => exportSchemasCommand(positionals[0] ?? "schemas"),
});

async function exportSchemasCommand(dir: string): Promise<number> {
  await mkdir(dir, { recursive: true });
  for (const [file, schema] of Object.entries(contractJsonSchemas())) {
    await writeFile(join(dir, file), `${JSON.stringify(schema, null, 2)}\n`);
    process.stdout.write(`wrote ${join(dir, file)}\n`);
  }
  return 0;
}
