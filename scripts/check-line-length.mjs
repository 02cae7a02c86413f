// Lines of at most 120 characters in the sources (TypeScript, JavaScript, Lua) of src/, test/,
// bench/, chaos/ and scripts/: the formatter cannot break a long string or comment, so this check
// does. Part of `npm run lint`. Prints each long line as file:line (length) and exits 1.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const LIMIT = 120;
const ROOTS = ["src", "test", "bench", "chaos", "scripts"];
const SOURCE = /\.(ts|mts|cts|js|mjs|cjs|lua)$/;
const long = [];
function walk(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === "node_modules" || entry.name === "results") continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) walk(path);
    else if (SOURCE.test(entry.name)) {
      readFileSync(path, "utf8")
        .split("\n")
        .forEach((line, i) => {
          // Characters, not UTF-16 units: "…" and "→" count as one.
          const length = [...line].length;
          if (length > LIMIT) long.push(`${path}:${i + 1} (${length})`);
        });
    }
  }
}
for (const root of ROOTS) walk(root);
if (long.length > 0) {
  process.stderr.write(`lines over ${LIMIT} characters (split the string or the comment):\n${long.join("\n")}\n`);
  process.exit(1);
}
