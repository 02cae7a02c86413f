import { parseArgs } from "node:util";

/** Thrown for bad command-line usage; main prints it with the command's help and exits 2. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

type OptionSpec = Record<string, { type: "string" | "boolean" }>;
export type ParsedValues<T extends OptionSpec> = { [K in keyof T]?: T[K]["type"] extends "boolean" ? boolean : string };

/** node:util parseArgs, strict, with usage errors as UsageError. */
export function parse<T extends OptionSpec>(argv: string[], options: T, allowPositionals = false): { values: ParsedValues<T>; positionals: string[] } {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (!allowPositionals && parsed.positionals.length > 0) throw new UsageError(`unexpected argument "${parsed.positionals[0]}"`);
  return { values: parsed.values as ParsedValues<T>, positionals: parsed.positionals };
}

export function intArg(value: string | undefined, name: string, min = 0): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name} must be a whole number ≥ ${min}, got "${value}"`);
  return n;
}
