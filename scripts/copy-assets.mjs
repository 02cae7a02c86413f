// Copies what tsc does not compile into dist/ next to the compiled modules that read it at run
// time: the Lua scripts (src/**/lua/**/*.lua), which src/store/redis/lua-scripts.ts loads from the
// folder beside its module, and the history's SQL migrations (src/history/migrations/*.sql), which
// src/history/migrate.ts hands node-pg-migrate. Part of `npm run build`.
import { cpSync, readdirSync } from "node:fs";
import { join } from "node:path";

const copied = [];
function walk(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) walk(path);
    else if (entry.name.endsWith(".lua") || entry.name.endsWith(".sql")) {
      cpSync(path, join("dist", path));
      copied.push(path);
    }
  }
}
walk("src");
if (!copied.some((p) => p.endsWith(".sql"))) throw new Error("copy-assets: no SQL migration found under src/");
if (copied.length === 0) throw new Error("copy-assets: no Lua script found under src/");
