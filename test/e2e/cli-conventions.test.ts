import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";

const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };

/** The conventions of docs/cli.md, on the built CLI (no Redis needed: each run stops at parsing). */
describe("CLI conventions (issue 19)", () => {
  it("a bare pc-invitations prints the short list of commands and exits 2", async () => {
    const r = await runCli([]);
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(/^ {2}enqueue\s/m);
    expect(r.stdout.split("\n").length).toBeLessThan(50);
  });

  it.each([["-v"], ["--version"], ["-V"], ["version"]])("%s prints the version", async (flag) => {
    const r = await runCli([flag]);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(`pc-invitations ${pkg.version} (node ${process.version})`);
  });

  it("an unknown command: one line on stderr with a suggestion and the hint, exit 2", async () => {
    const r = await runCli(["enqeue"]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe(
      "pc-invitations: unknown command 'enqeue' (did you mean enqueue?)\nRun 'pc-invitations --help' for usage.\n",
    );
  });

  it("an unknown option: one line naming the command, a suggestion and the hint, exit 2", async () => {
    const r = await runCli(["enqueue", "--fiel", "x.ndjson"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      "pc-invitations enqueue: unknown option '--fiel' (did you mean --file?)\n" +
        "Run 'pc-invitations enqueue --help' for usage.\n",
    );
  });

  it("a usage error found by the command itself: one line with the hint, no help reprinted, exit 2", async () => {
    const r = await runCli(["cancel"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      "pc-invitations cancel: give the request id (the jobId enqueue printed)\n" +
        "Run 'pc-invitations cancel --help' for usage.\n",
    );
  });

  it("a missing option value and an --output outside the command's formats are usage errors", async () => {
    const missing = await runCli(["enqueue", "--file"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr.trim().split("\n")).toHaveLength(2);
    expect(missing.stderr).toContain("--file <FILE>");
    const format = await runCli(["limits", "show", "--output", "yaml"]);
    expect(format.code).toBe(2);
    expect(format.stderr).toContain("Allowed choices are json");
    const both = await runCli(["cancel", "x", "--output", "table", "--json"]);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain("give --output table or --json, not both");
  });

  it("a subcommand has its own help: outcomes replay --help, help <command>", async () => {
    const replay = await runCli(["outcomes", "replay", "--help"]);
    expect(replay.code).toBe(0);
    expect(replay.stdout).toContain("Usage: pc-invitations outcomes replay [options]");
    expect(replay.stdout).toContain("--all");
    expect(replay.stdout).not.toContain("--drain");
    const help = await runCli(["help", "redrive"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("Usage: pc-invitations redrive [options]");
  });
});
