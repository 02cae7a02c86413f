import { Command, CommanderError, Option } from "commander";
import {
  type AnyDefinition,
  type CommandDefinition,
  OUTPUT_FORMATS,
  type OptionValues,
  type OutputFormat,
  type TreeEntry,
} from "./define-command.js";
import { reportError, USAGE_EXIT, usageLine } from "./errors.js";
import { UsageError } from "./args.js";
import { packageVersion } from "./version.js";

export const PROGRAM_SUMMARY = "accept (or reject) AWS Partner Central connection invitations at scale";

/** Where a command's exit code is left for main (commander's action handlers return nothing). */
interface Outcome {
  code: number;
}

/**
 * The commander tree of the given definitions (src/cli/commands/index.ts), with the conventions
 * of docs/cli.md: per-command help, "did you mean", one-line usage errors with a hint (exit 2),
 * -v/--version, --output json|table|ndjson (and --json/--table) on every command.
 */
export function buildProgram(definitions: readonly AnyDefinition[], outcome: Outcome = { code: 0 }): Command {
  const program = new Command("pc-invitations")
    .description(PROGRAM_SUMMARY)
    .usage("<command> [options]")
    .version(`pc-invitations ${packageVersion()} (node ${process.version})`, "-v, --version", "print the version")
    .helpOption("-h, --help", "print help (a command's own: pc-invitations <command> --help)")
    .addHelpText(
      "after",
      "\nRun 'pc-invitations <command> --help' for a command's options. " +
        "Configuration: environment variables (docs/configuration.md).",
    );
  conventions(program, "");
  for (const def of definitions) program.addCommand(toCommand(def, "", outcome));
  return program;
}

/** Settings every level of the tree gets (commander copies them only to commands it creates itself). */
function conventions(cmd: Command, path: string): void {
  cmd
    .exitOverride()
    .showSuggestionAfterError(true)
    .enablePositionalOptions()
    .configureHelp({ sortSubcommands: false, subcommandTerm: (c) => c.name() })
    .configureOutput({
      // commander's "error: unknown option '--fiel'\n(Did you mean --file?)" as one line, with the hint.
      outputError: (text, write) => {
        const message = text
          .replace(/^error:\s*/, "")
          .replace(/\n\(Did you mean (.*)\?\)/, " (did you mean $1?)")
          .replace(/\s*\n\s*/g, " ");
        write(usageLine(path, message));
      },
    });
}

function toCommand(def: AnyDefinition, parentPath: string, outcome: Outcome): Command {
  const path = parentPath ? `${parentPath} ${def.name}` : def.name;
  const cmd = new Command(def.name).description(def.summary);
  conventions(cmd, path);
  if (def.details) cmd.addHelpText("after", `\n${def.details}`);
  if (def.kind === "group") {
    cmd.helpCommand(false);
    for (const sub of def.commands) cmd.addCommand(toCommand(sub, path, outcome));
    return cmd;
  }
  for (const sub of def.subcommands ?? []) cmd.addCommand(toCommand(sub, path, outcome));
  if (def.subcommands?.length) cmd.helpCommand(false);
  for (const arg of def.args ?? []) cmd.argument(arg);
  const options = def.options ?? {};
  const attribute = new Map<string, string>();
  for (const [flag, spec] of Object.entries(options)) {
    const value = spec.type === "string" ? ` <${spec.valueName ?? flag.replace(/-/g, "_").toUpperCase()}>` : "";
    const option = new Option(`${spec.short ? `-${spec.short}, ` : ""}--${flag}${value}`, spec.description);
    if (spec.multiple) option.argParser((v: string, previous: string[] | undefined) => [...(previous ?? []), v]);
    if (spec.hidden) option.hideHelp();
    attribute.set(flag, option.attributeName());
    cmd.addOption(option);
  }
  const formats = def.output?.formats ?? OUTPUT_FORMATS;
  cmd.addOption(new Option("-o, --output <format>", "what stdout gets").choices([...formats]));
  if (formats.includes("json")) cmd.addOption(new Option("--json", "same as --output json"));
  if (formats.includes("table") && !("table" in options))
    cmd.addOption(new Option("--table", "same as --output table"));
  cmd.action(async (...received: unknown[]) => {
    const self = received[received.length - 1] as Command;
    const opts = self.opts();
    try {
      const values = Object.fromEntries(
        [...attribute].filter(([, key]) => opts[key] !== undefined).map(([flag, key]) => [flag, opts[key]]),
      ) as OptionValues<Record<string, never>>;
      const positionals = (self.processedArgs as unknown[]).flat().filter((a): a is string => typeof a === "string");
      outcome.code = await def.run({
        values,
        positionals,
        output: chooseOutput(def, opts),
        path,
        tree: () => commandTree(rootOf(self)),
      });
    } catch (err) {
      outcome.code = reportError(path, err);
    }
  });
  return cmd;
}

function rootOf(cmd: Command): Command {
  let root = cmd;
  while (root.parent) root = root.parent;
  return root;
}

/** Every command under `root`, with its subcommand names and flags (hidden ones left out). */
export function commandTree(root: Command): TreeEntry[] {
  const entries: TreeEntry[] = [];
  const walk = (cmd: Command, path: string) => {
    const visible = (cmd.options as readonly Option[]).filter((o) => !o.hidden);
    const flags = visible.flatMap((o) => [o.long, o.short]).filter((f): f is string => f !== undefined);
    entries.push({ path, words: [...cmd.commands.map((c) => c.name()), ...flags, "--help"] });
    for (const sub of cmd.commands) walk(sub, path ? `${path} ${sub.name()}` : sub.name());
  };
  walk(root, "");
  return entries;
}

function chooseOutput(def: CommandDefinition, opts: Record<string, unknown>): OutputFormat {
  const given: Array<[string, OutputFormat]> = [];
  if (opts.output !== undefined) given.push([`--output ${opts.output as string}`, opts.output as OutputFormat]);
  if (opts.json === true) given.push(["--json", "json"]);
  if (opts.table === true) given.push(["--table", "table"]);
  if (given.length > 1) throw new UsageError(`give ${given.map(([flag]) => flag).join(" or ")}, not both`);
  if (given[0]) return given[0][1];
  return process.stdout.isTTY === true ? (def.output?.tty ?? "table") : (def.output?.piped ?? "json");
}

/** Runs the CLI on `argv` (without node and the script); resolves with the exit code. */
export async function runProgram(definitions: readonly AnyDefinition[], argv: readonly string[]): Promise<number> {
  const outcome: Outcome = { code: 0 };
  const program = buildProgram(definitions, outcome);
  if (argv[0] === "-V" || argv[0] === "version") argv = ["--version", ...argv.slice(1)];
  if (argv.length === 0) {
    // A bare `pc-invitations`: the short list of commands, and the exit code of a usage error.
    process.stdout.write(program.helpInformation());
    return USAGE_EXIT;
  }
  try {
    await program.parseAsync([...argv], { from: "user" });
    return outcome.code;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help asked for (`--help`, `help <command>`) and the version exit 0; help shown because
      // something was missing (a group without its subcommand) is a usage error.
      if (err.code === "commander.helpDisplayed" || err.code === "commander.version") return 0;
      if (err.code === "commander.help" && err.exitCode === 0) return 0;
      return USAGE_EXIT;
    }
    return reportError("", err);
  }
}
