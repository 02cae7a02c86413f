/** One command of the tree as completion sees it: its words, its flags, the words that may follow it. */
export interface CompletionEntry {
  /** "" for the program itself, "schedules list" for a subcommand. */
  path: string;
  /** Subcommand names and flags offered after it. */
  words: readonly string[];
}

/**
 * The completion script for bash, or for zsh (through bashcompinit): `eval "$(pc-invitations
 * completion bash)"`. Static: the tree is written into it, so completing runs no Node process.
 * Completes command and subcommand names, then that command's flags; an option's value and an
 * argument complete as files (bash's default).
 */
export function completionScript(shell: "bash" | "zsh", entries: readonly CompletionEntry[]): string {
  const quote = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;
  const paths = entries.filter((e) => e.path !== "").map((e) => quote(e.path));
  const cases = entries.map((e) => `    ${quote(e.path)}) words=${quote(e.words.join(" "))} ;;`).join("\n");
  const bash = `# pc-invitations completion (${shell}): eval "$(pc-invitations completion ${shell})"
_pc_invitations_is_path() {
  case "$1" in
    ${paths.join("|")}) return 0 ;;
  esac
  return 1
}
_pc_invitations() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" path="" next i words=""
  for ((i = 1; i < COMP_CWORD; i++)); do
    next="\${path:+$path }\${COMP_WORDS[i]}"
    if _pc_invitations_is_path "$next"; then path="$next"; fi
  done
  case "$path" in
${cases}
  esac
  if [[ "$cur" == -* || -n "$words" && "$words" != -* ]]; then
    COMPREPLY=($(compgen -W "$words" -- "$cur"))
  else
    COMPREPLY=($(compgen -f -- "$cur"))
  fi
}
complete -o default -F _pc_invitations pc-invitations
`;
  if (shell === "bash") return bash;
  return `autoload -U +X bashcompinit && bashcompinit\n${bash}`;
}
