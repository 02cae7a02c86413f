import { afterEach, describe, expect, it, vi } from "vitest";
import { UsageError } from "../../src/cli/args.js";
import { defineCommand, defineGroup } from "../../src/cli/define-command.js";
import { runProgram } from "../../src/cli/program.js";

/** A program of test commands: what a helper adding `users add|list` gets from defineCommand/defineGroup. */
const seen: unknown[] = [];
const usersAdd = defineCommand({
  name: "add",
  summary: "add a user",
  args: ["<email>"],
  options: {
    role: { type: "string", description: "the role", valueName: "ROLE" },
    tag: { type: "string", multiple: true, description: "a tag (repeatable)" },
    "dry-run": { type: "boolean", description: "change nothing" },
  },
  run: async (ctx) => {
    seen.push(ctx);
    if (ctx.values.role === "bad") throw new UsageError("--role must be admin or viewer");
    return 0;
  },
});
const usersList = defineCommand({
  name: "list",
  summary: "list users",
  output: { tty: "table", piped: "ndjson" },
  run: async (ctx) => {
    seen.push(ctx);
    return 7;
  },
});
const program = [defineGroup({ name: "users", summary: "manage users", commands: [usersAdd, usersList] })];

function capture() {
  let out = "";
  let err = "";
  vi.spyOn(process.stdout, "write").mockImplementation((s) => {
    out += String(s);
    return true;
  });
  vi.spyOn(process.stderr, "write").mockImplementation((s) => {
    err += String(s);
    return true;
  });
  return { out: () => out, err: () => err };
}

afterEach(() => {
  vi.restoreAllMocks();
  seen.length = 0;
});

describe("defineCommand / defineGroup / runProgram", () => {
  it("runs a subcommand of a group with its options keyed by flag, its arguments and its exit code", async () => {
    capture();
    expect(await runProgram(program, ["users", "add", "a@example.com", "--tag", "x", "--tag", "y", "--dry-run"])).toBe(
      0,
    );
    expect(seen[0]).toMatchObject({
      values: { tag: ["x", "y"], "dry-run": true },
      positionals: ["a@example.com"],
      path: "users add",
    });
    expect(await runProgram(program, ["users", "list"])).toBe(7);
  });

  it("chooses the output: --output, its shorthands, else the command's default for a pipe", async () => {
    capture();
    const isTTY = process.stdout.isTTY;
    try {
      process.stdout.isTTY = false as never;
      await runProgram(program, ["users", "list"]);
      await runProgram(program, ["users", "add", "a", "--table"]);
      await runProgram(program, ["users", "add", "a", "-o", "ndjson"]);
      await runProgram(program, ["users", "add", "a"]);
      process.stdout.isTTY = true as never;
      await runProgram(program, ["users", "add", "a"]);
    } finally {
      process.stdout.isTTY = isTTY;
    }
    expect(seen.map((c) => (c as { output: string }).output)).toEqual(["ndjson", "table", "ndjson", "json", "table"]);
  });

  it("usage errors are one line with the command's path and hint, exit 2", async () => {
    const io = capture();
    expect(await runProgram(program, ["users", "add"])).toBe(2);
    expect(io.err()).toBe(
      "pc-invitations users add: missing required argument 'email'\nRun 'pc-invitations users add --help' for usage.\n",
    );
    expect(await runProgram(program, ["users", "ad", "x"])).toBe(2);
    expect(io.err()).toContain("pc-invitations users: unknown command 'ad' (did you mean add?)");
    expect(await runProgram(program, ["users", "add", "x", "--role", "bad"])).toBe(2);
    expect(io.err()).toContain(
      "pc-invitations users add: --role must be admin or viewer\nRun 'pc-invitations users add --help' for usage.\n",
    );
    expect(await runProgram(program, ["users", "add", "x", "--rol", "a"])).toBe(2);
    expect(io.err()).toContain("unknown option '--rol' (did you mean --role?)");
  });

  it("a group's help lists its subcommands; a subcommand's help is its own", async () => {
    const io = capture();
    expect(await runProgram(program, ["users", "--help"])).toBe(0);
    expect(io.out()).toMatch(/^ {2}add\s+add a user$/m);
    expect(io.out()).toMatch(/^ {2}list\s+list users$/m);
    expect(await runProgram(program, ["users", "add", "--help"])).toBe(0);
    expect(io.out()).toContain("Usage: pc-invitations users add [options] <email>");
    expect(io.out()).toContain("--tag <TAG>");
  });
});

describe("the commands of pc-invitations", () => {
  it("each has its own help with --output, and a group without its subcommand is a usage error", async () => {
    const { commands } = await import("../../src/cli/commands/index.js");
    expect(commands.length).toBeGreaterThanOrEqual(13);
    for (const def of commands) {
      const io = capture();
      expect(await runProgram(commands, [def.name, "--help"]), def.name).toBe(0);
      expect(io.out(), def.name).toContain(`Usage: pc-invitations ${def.name}`);
      if (def.kind === "command") expect(io.out(), def.name).toContain("-o, --output <format>");
      vi.restoreAllMocks();
    }
    const io = capture();
    expect(await runProgram(program, ["users"])).toBe(2);
    expect(io.err()).toContain("Usage: pc-invitations users");
  });
});
