import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The version in pc-invitations' package.json, found upward from this module (dist/src/cli, or src/cli). */
export function packageVersion(from: string = fileURLToPath(import.meta.url)): string {
  for (let dir = dirname(from); ; dir = dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { name?: string; version?: string };
      if (pkg.name === "pc-invitations" && pkg.version) return pkg.version;
    } catch {
      // no package.json here: look higher
    }
    if (dirname(dir) === dir) return "unknown";
  }
}
