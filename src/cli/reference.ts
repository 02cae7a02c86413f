import type { Command } from "commander";

/** Help lines are wrapped at this width in the reference, whatever the terminal that generates it. */
const WIDTH = 100;

/**
 * docs/cli-reference.md: every command's help as `pc-invitations <command> --help` prints it,
 * from the commander tree (npm run docs:generate; a test fails when it drifts).
 */
export function cliReference(program: Command): string {
  const parts = [
    "# CLI reference",
    "",
    "<!-- Generated from the commander tree (src/cli/commands) by `npm run docs:generate`; do not edit by hand. -->",
    "",
    "Conventions (output formats, usage errors, exit codes, adding a command): [cli.md](cli.md).",
  ];
  const walk = (cmd: Command, path: string) => {
    cmd.configureHelp({ ...cmd.configureHelp(), helpWidth: WIDTH });
    parts.push("", `## ${path}`, "", "```text", cmd.helpInformation().trimEnd(), "```");
    for (const sub of cmd.commands) walk(sub, `${path} ${sub.name()}`);
  };
  walk(program, "pc-invitations");
  return `${parts.join("\n")}\n`;
}
