import { UsageError } from "../args.js";
import { completionScript } from "../completion.js";
import { defineCommand } from "../define-command.js";

export const completion = defineCommand({
  name: "completion",
  summary: "print the shell completion script (bash or zsh)",
  args: ["[shell]"],
  details: `Usage:
  eval "$(pc-invitations completion bash)"     in ~/.bashrc
  eval "$(pc-invitations completion zsh)"      in ~/.zshrc

Completes command and subcommand names, then each command's flags.`,
  output: { formats: ["table"], tty: "table", piped: "table" },
  run: async ({ positionals, tree }) => {
    const shell = positionals[0];
    if (shell !== "bash" && shell !== "zsh")
      throw new UsageError(shell ? `unknown shell "${shell}" (bash or zsh)` : "say which shell: bash or zsh");
    process.stdout.write(completionScript(shell, tree()));
    return 0;
  },
});
