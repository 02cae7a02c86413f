import { execFileSync } from "node:child_process";
import { afterEach, describe, expect, it, vi } from "vitest";
import { commands } from "../../src/cli/commands/index.js";
import { runProgram } from "../../src/cli/program.js";

/** The script `pc-invitations completion <shell>` prints, from the real command tree. */
async function script(shell: string): Promise<{ code: number; out: string }> {
  let out = "";
  vi.spyOn(process.stdout, "write").mockImplementation((s) => {
    out += String(s);
    return true;
  });
  vi.spyOn(process.stderr, "write").mockImplementation(() => true);
  const code = await runProgram(commands, ["completion", shell]);
  vi.restoreAllMocks();
  return { code, out };
}

/** What bash offers for the words typed so far (the last one being completed), with the script sourced. */
function complete(source: string, words: string[]): string[] {
  const program = `${source}
COMP_WORDS=(${words.map((w) => `'${w}'`).join(" ")}); COMP_CWORD=${words.length - 1}
_pc_invitations; printf '%s\\n' "\${COMPREPLY[@]}"`;
  return execFileSync("bash", ["--norc", "-c", program], { encoding: "utf8", cwd: "/" }).split("\n").filter(Boolean);
}

afterEach(() => vi.restoreAllMocks());

describe("pc-invitations completion", () => {
  it("bash: completes commands, a group's subcommands, then that command's flags", async () => {
    const { code, out } = await script("bash");
    expect(code).toBe(0);
    expect(complete(out, ["pc-invitations", "en"])).toEqual(["enqueue"]);
    expect(complete(out, ["pc-invitations", "sch"])).toEqual(["schedules"]);
    expect(complete(out, ["pc-invitations", "schedules", ""]).sort()).toEqual(["--help", "list", "remove"]);
    expect(complete(out, ["pc-invitations", "schedules", "remove", "--a"])).toEqual(["--all"]);
    expect(complete(out, ["pc-invitations", "redrive", "--l"])).toEqual(["--limit"]);
    // A value given to an option does not change the command being completed.
    expect(complete(out, ["pc-invitations", "enqueue", "--catalog", "AWS", "--fi"])).toEqual(["--file"]);
    expect(complete(out, ["pc-invitations", "outcomes", "replay", "--d"])).toEqual(["--dry-run"]);
  });

  it("zsh: the same script through bashcompinit; another shell is a usage error", async () => {
    const zsh = await script("zsh");
    expect(zsh.code).toBe(0);
    expect(zsh.out.split("\n")[0]).toBe("autoload -U +X bashcompinit && bashcompinit");
    expect(zsh.out).toContain("complete -o default -F _pc_invitations pc-invitations");
    expect((await script("fish")).code).toBe(2);
  });
});
