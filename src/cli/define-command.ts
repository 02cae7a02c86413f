/**
 * The one way a CLI command is written (docs/cli.md): a definition in its own file under
 * src/cli/commands/, listed once in src/cli/commands/index.ts. The program (src/cli/program.ts)
 * turns each definition into a commander command with the shared options and conventions.
 */

/** What a command prints on stdout: `table` is for people, `json` one document, `ndjson` one per line; `csv` only
 * where a command declares it (history). */
export type OutputFormat = "json" | "table" | "ndjson" | "csv";
export const OUTPUT_FORMATS: readonly OutputFormat[] = ["json", "table", "ndjson"];

export interface OptionDef {
  type: "string" | "boolean";
  /** Given as often as needed; the value is a list. */
  multiple?: boolean;
  /** One letter: `-x`. */
  short?: string;
  /** One line in the help. */
  description: string;
  /** The value's name in the help (`--catalog <CATALOG>`); defaults to the flag's name in capitals. */
  valueName?: string;
  /** Not listed in the help (kept for compatibility). */
  hidden?: boolean;
}
export type OptionDefs = Record<string, OptionDef>;

type ValueOf<O extends OptionDef> = O["type"] extends "boolean" ? boolean : string;
/** Parsed options, keyed by their long flag (`"dry-run"`), as node:util parseArgs gives them. */
export type OptionValues<T extends OptionDefs> = {
  [K in keyof T]?: T[K]["multiple"] extends true ? Array<ValueOf<T[K]>> : ValueOf<T[K]>;
};

export interface OutputDefaults {
  /** The formats this command prints. @defaultValue all three */
  formats?: readonly OutputFormat[];
  /** Without --output, on a terminal. @defaultValue "table" */
  tty?: OutputFormat;
  /** Without --output, when stdout is a pipe or a file. @defaultValue "json" */
  piped?: OutputFormat;
}

export interface CommandContext<T extends OptionDefs> {
  values: OptionValues<T>;
  /** The command's arguments, in order (their names are in `args`). */
  positionals: string[];
  /** The format chosen: --output, its shorthands --json/--table, or the command's default. */
  output: OutputFormat;
  /** The command's path for messages: "enqueue", "users add". */
  path: string;
  /** The whole command tree: each command's path and the words that may follow it (completion, docs). */
  tree(): readonly TreeEntry[];
}

/** One command of the tree: its path ("" for the program, "schedules list"), subcommand names and flags. */
export interface TreeEntry {
  path: string;
  words: readonly string[];
}

export interface CommandDefinition<T extends OptionDefs = OptionDefs> {
  kind: "command";
  /** The word that runs it. */
  name: string;
  /** One line for the list of commands. */
  summary: string;
  /** Arguments as commander writes them: "<requestId>", "[dir]", "[ids...]". */
  args?: readonly string[];
  options?: T;
  /** Text after the options in `--help`: usage examples, rules, exit codes. */
  details?: string;
  output?: OutputDefaults;
  /** Subcommands that also live under this command (`outcomes replay`). */
  subcommands?: readonly AnyDefinition[];
  /** Runs the command; resolves with the exit code. Throw UsageError for bad usage (exit 2). */
  run(ctx: CommandContext<T>): Promise<number>;
}

export interface GroupDefinition {
  kind: "group";
  name: string;
  summary: string;
  details?: string;
  /** `pc-invitations users add`, `pc-invitations users list`… */
  commands: readonly AnyDefinition[];
}

export type AnyDefinition = CommandDefinition<OptionDefs> | GroupDefinition;

/** A command: `export const enqueue = defineCommand({ name: "enqueue", … })`, then one line in commands/index.ts. */
export function defineCommand<T extends OptionDefs>(def: Omit<CommandDefinition<T>, "kind">): CommandDefinition {
  return { kind: "command", ...def } as unknown as CommandDefinition;
}

/** A group of subcommands: `defineGroup({ name: "users", summary, commands: [usersAdd, usersList] })`. */
export function defineGroup(def: Omit<GroupDefinition, "kind">): GroupDefinition {
  return { kind: "group", ...def };
}
