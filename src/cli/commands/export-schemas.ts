import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { contractJsonSchemas } from "../../contracts/json-schema.js";
import { parse } from "../args.js";

export const exportSchemasHelp =
  `pc-invitations export-schemas [DIR]: write the JSON Schema of the request, ` +
  `the outcome event and the discovery policy (default DIR: schemas)`;

export async function exportSchemasCommand(argv: string[]): Promise<number> {
  const { positionals } = parse(argv, {}, true);
  const dir = positionals[0] ?? "schemas";
  await mkdir(dir, { recursive: true });
  for (const [file, schema] of Object.entries(contractJsonSchemas())) {
    await writeFile(join(dir, file), `${JSON.stringify(schema, null, 2)}\n`);
    process.stdout.write(`wrote ${join(dir, file)}\n`);
  }
  return 0;
}
