/**
 * What `npm ci` prints (docs/node.md, "What npm ci prints"): each kind of warning it printed is either
 * resolved, and a test here fails when it comes back, or explained, and a test here checks the explanation.
 * These read the installed tree (`npm ls`, `npm query`) and package-lock.json; nothing is fetched.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../../", import.meta.url));
const read = (file: string) => readFileSync(join(root, file), "utf8");
const pkg = JSON.parse(read("package.json")) as { allowScripts?: Record<string, boolean> };
const lock = JSON.parse(read("package-lock.json")) as {
  packages: Record<string, { version?: string; hasInstallScript?: boolean }>;
};
const npm = (args: string[]) => execFileSync("npm", args, { cwd: root, encoding: "utf8", stdio: "pipe" });

describe("npm ci", () => {
  it(
    "prints no install-scripts notice: every dependency with an install " + "script has a reviewed allowScripts entry",
    () => {
      const withScripts = Object.entries(lock.packages)
        .filter(([path, entry]) => path !== "" && entry.hasInstallScript)
        .map(([path]) => path.slice(path.lastIndexOf("node_modules/") + "node_modules/".length));
      expect(withScripts.length).toBeGreaterThan(0);
      const reviewed = Object.keys(pkg.allowScripts ?? {}).map((entry) => entry.replace(/(?<=.)@[^@]*$/, ""));
      expect(withScripts.filter((name) => !reviewed.includes(name))).toEqual([]);
      // and docs/node.md says why each is allowed or denied
      for (const name of reviewed) expect(read("docs/node.md"), name).toContain(`\`${name}\``);
    },
  );

  it("prints no ERESOLVE: the installed tree satisfies every dependency and peer range (npm ls)", () => {
    // npm ls exits 1 and lists the problem when a package sits outside a range it must satisfy.
    const tree = JSON.parse(npm(["ls", "--all", "--json"])) as { problems?: string[] };
    expect(tree.problems ?? []).toEqual([]);
  });

  it(
    "prints EBADENGINE only for npm's own Node: every installed package " +
      "accepts the Node the scripts run on, and 24",
    () => {
      // npm checks `engines` against the Node npm itself runs on (20 on the CI host); the scripts run here.
      const refusing = (version: string) =>
        (
          JSON.parse(
            npm(["query", `:attr(engines, [node]):not(:semver(${version}, :attr(engines, [node])))`]),
          ) as Array<{
            name: string;
            version: string;
          }>
        ).map((p) => `${p.name}@${p.version}`);
      expect(refusing(process.versions.node)).toEqual([]);
      expect(refusing("24.0.0")).toEqual([]);
      // The query does find what npm warns about: on Node 20, the packages that need 22 or later.
      expect(refusing("20.20.2").some((id) => id.startsWith("vitest@"))).toBe(true);
    },
  );
});
