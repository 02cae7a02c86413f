import { parseArgs } from "node:util";
import { DURATION_RULE, parseDuration } from "../schemas/duration.js";

/** Thrown for bad command-line usage; main prints it with the command's help and exits 2. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

type OptionSpec = Record<string, { type: "string" | "boolean"; multiple?: boolean }>;
type ValueOf<O extends OptionSpec[string]> = O["type"] extends "boolean" ? boolean : string;
/** A `multiple` option (given as often as needed) is a list. */
export type ParsedValues<T extends OptionSpec> = {
  [K in keyof T]?: T[K]["multiple"] extends true ? Array<ValueOf<T[K]>> : ValueOf<T[K]>;
};

/** node:util parseArgs, strict, with usage errors as UsageError. */
export function parse<T extends OptionSpec>(
  argv: string[],
  options: T,
  allowPositionals = false,
): { values: ParsedValues<T>; positionals: string[] } {
  let parsed: ReturnType<typeof parseArgs<{ args: string[]; options: T; allowPositionals: true; strict: true }>>;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (!allowPositionals && parsed.positionals.length > 0)
    throw new UsageError(`unexpected argument "${parsed.positionals[0]}"`);
  return { values: parsed.values as ParsedValues<T>, positionals: parsed.positionals };
}

export function intArg(value: string | undefined, name: string, min = 0): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min)
    throw new UsageError(`--${name} must be a whole number ≥ ${min}, got "${value}"`);
  return n;
}

/** A duration option (`5m`, `1h`, `30s`: schemas/duration.ts), in ms. */
export function durationArg(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const ms = parseDuration(value);
  if (ms === undefined || ms < 1) throw new UsageError(`--${name} ${DURATION_RULE}, got "${value}"`);
  return ms;
}
