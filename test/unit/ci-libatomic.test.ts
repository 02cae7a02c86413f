/**
 * .ci/run installs libatomic1 before `npm ci` when the dynamic loader lacks libatomic.so.1: Node 26's Linux
 * build, linked into node_modules/.bin, needs it, and without it every npm script fails (`prepare` first).
 * .ci/ensure-libatomic runs here with stand-ins for ldconfig, apt-get and uname on the PATH.
 */
import { execFileSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../../", import.meta.url));
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** Runs the script with ldconfig -p listing `libraries`; returns what apt-get was asked, one call a line. */
function ensureLibatomic(libraries: string[]): string[] {
  const bin = mkdtempSync(join(tmpdir(), "pci-ci-"));
  dirs.push(bin);
  const log = join(bin, "apt-get.log");
  writeFileSync(log, "");
  const stub = (name: string, body: string) => {
    writeFileSync(join(bin, name), `#!/bin/sh\n${body}\n`);
    chmodSync(join(bin, name), 0o755);
  };
  stub("uname", "echo Linux");
  stub("ldconfig", `cat <<'LIST'\n${libraries.map((l) => `\t${l} (libc6,x86-64) => /lib/${l}`).join("\n")}\nLIST`);
  stub("apt-get", `echo "$*" >> '${log}'`);
  execFileSync(join(root, ".ci/ensure-libatomic"), {
    env: { ...process.env, PATH: `${bin}:${process.env.PATH}` },
    stdio: ["ignore", "ignore", "pipe"],
  });
  return readFileSync(log, "utf8").split("\n").filter(Boolean);
}

describe(".ci/ensure-libatomic", () => {
  it("installs libatomic1 when the loader does not know libatomic.so.1", () => {
    const calls = ensureLibatomic(["libc.so.6", "libatomic.so.2", "libstdc++.so.6"]);
    expect(calls).toEqual(["update -qq", "install -y -qq libatomic1"]);
  });

  it("does nothing when libatomic.so.1 is there", () => {
    expect(ensureLibatomic(["libc.so.6", "libatomic.so.1", "libstdc++.so.6"])).toEqual([]);
  });

  it("runs in .ci/run before npm ci (whose prepare script already runs on Node 26)", () => {
    const run = readFileSync(join(root, ".ci/run"), "utf8");
    const ensure = run.indexOf("\n.ci/ensure-libatomic\n");
    expect(ensure).toBeGreaterThan(-1);
    expect(ensure).toBeLessThan(run.indexOf("\nnpm ci "));
  });
});
