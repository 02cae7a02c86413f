/**
 * The switch board: the current `EmulatorSwitches`, validated once when set,
 * with the derived lookups the request pipeline needs.
 *
 * One schema validates switches from both doors (start options /
 * `setSwitches`, and `POST /_emulator/switches`), so the two cannot disagree.
 * A key present with value undefined (or null, over HTTP) turns that switch
 * off; absent keys keep their value. `omitOutputFields` only accepts members
 * the model marks optional, because each switch must stay an answer AWS
 * could give.
 */
import { z } from "zod";
import { CONFLICT_REASONS, INVITATION_STATUSES, type EmulatorSwitches, type InvitationStatus } from "./types.js";
import { HANDLERS, isOperationName, type OperationName } from "./operations.js";

/** Output members that the model does not require, per operation (HANDLERS' optionalOutput). */
export const OPTIONAL_OUTPUT_MEMBERS: Readonly<Record<OperationName, readonly string[]>> = Object.fromEntries(
  Object.entries(HANDLERS).map(([name, handler]) => [name, handler.optionalOutput]),
) as unknown as Record<OperationName, readonly string[]>;

const conflictReason = z.enum(CONFLICT_REASONS);

/** The one schema for switches; null (HTTP) and undefined (options) both mean "off". */
export const switchesSchema = z
  .object({
    omitOutputFields: z.record(z.string(), z.array(z.string())),
    stateConflictReason: z.union([conflictReason, z.partialRecord(z.enum(INVITATION_STATUSES), conflictReason)]),
    errorTypeLocation: z.enum(["body", "header", "both"]),
    errorTypeFormat: z.enum(["namespaced", "bare", "coral"]),
    errorNamespace: z.string().regex(/^[A-Za-z0-9_.]+$/),
    throttleStatus: z.union([z.literal(400), z.literal(429)]),
    throttleRetryAfterSeconds: z.number().int().min(0),
    emptyServerErrorBodies: z.boolean(),
    hang: z.union([z.boolean(), z.array(z.string().min(1))]),
    clockOffsetMs: z.number().finite(),
    requireSignature: z.boolean(),
    knownAccessKeyIds: z.array(z.string().min(1)),
    expiredSessionTokens: z.union([z.literal("all"), z.array(z.string().min(1))]),
    maxClockSkewSeconds: z.number().min(0),
    authErrorStatus: z.union([z.literal(400), z.literal(403)]),
    listConnectionsActiveOnly: z.boolean(),
    repeatNextToken: z.enum(["same", "wrap"]),
  })
  .partial()
  .strict();

export const SWITCH_NAMES = Object.keys(switchesSchema.shape) as Array<keyof EmulatorSwitches>;

/**
 * The dotted path a name stands for in `op`'s output: the path itself, or the
 * one path whose last segment it is. Throws for anything not optional.
 */
export function resolveOmittable(op: string, name: string): string {
  if (!isOperationName(op)) throw new Error(`omitOutputFields: unknown operation ${op}`);
  const allowed = OPTIONAL_OUTPUT_MEMBERS[op];
  if (allowed.includes(name)) return name;
  const bySegment = allowed.filter((p) => p.split(".").at(-1) === name);
  if (bySegment.length === 1) return bySegment[0]!;
  const choices = allowed.length > 0 ? allowed.join(", ") : "none";
  throw new Error(`omitOutputFields: ${op}.${name} is not an optional output member (optional: ${choices})`);
}

function prettify(err: z.ZodError): string {
  return z.prettifyError(err);
}

export class SwitchBoard {
  private current: EmulatorSwitches = {};
  /** omitOutputFields resolved to dotted paths. */
  private omitted = new Map<string, string[]>();

  constructor(initial: EmulatorSwitches = {}) {
    const picked: Record<string, unknown> = {};
    for (const k of SWITCH_NAMES) if (initial[k] !== undefined) picked[k] = initial[k];
    this.set(picked);
  }

  /** A copy of the switches that are on. */
  get settings(): EmulatorSwitches {
    return structuredClone(this.current);
  }

  /** The live switches, read-only: replaced, never mutated, by `set`, so a request can hold on to them. */
  get view(): Readonly<EmulatorSwitches> {
    return this.current;
  }

  /** Validates, then applies; nothing changes if any key is invalid. Throws an Error saying what is wrong. */
  set(partial: Record<string, unknown>): void {
    const on: Record<string, unknown> = {};
    const off: string[] = [];
    for (const [k, v] of Object.entries(partial)) {
      if (v === undefined || v === null) off.push(k);
      else on[k] = v;
    }
    const parsed = switchesSchema.safeParse(on);
    if (!parsed.success) throw new Error(prettify(parsed.error));
    const unknown = off.filter((k) => !(SWITCH_NAMES as string[]).includes(k));
    if (unknown.length > 0) throw new Error(`unknown switch: ${unknown.join(", ")}`);

    const omitted = new Map(this.omitted);
    if (parsed.data.omitOutputFields !== undefined) {
      omitted.clear();
      for (const [op, names] of Object.entries(parsed.data.omitOutputFields)) {
        omitted.set(
          op,
          names.map((n) => resolveOmittable(op, n)),
        );
      }
    }
    if (parsed.data.hang !== undefined && Array.isArray(parsed.data.hang)) {
      for (const op of parsed.data.hang) if (!isOperationName(op)) throw new Error(`hang: unknown operation ${op}`);
    }

    const next: EmulatorSwitches = { ...this.current, ...parsed.data };
    for (const k of off) {
      delete next[k as keyof EmulatorSwitches];
      if (k === "omitOutputFields") omitted.clear();
    }
    this.current = next;
    this.omitted = omitted;
  }

  /** Dotted paths to leave out of `op`'s successful output. */
  omittedPaths(op: string): readonly string[] {
    return this.omitted.get(op) ?? [];
  }

  conflictReasonFor(status: InvitationStatus): string | undefined {
    const r = this.current.stateConflictReason;
    return typeof r === "string" ? r : r?.[status];
  }

  hangs(op: string): boolean {
    const h = this.current.hang;
    return h === true || (Array.isArray(h) && h.includes(op));
  }

  /** Milliseconds since the epoch on the emulator's (possibly offset) clock. */
  now(): number {
    return Date.now() + (this.current.clockOffsetMs ?? 0);
  }
}
