import { z } from "zod";

/**
 * Durations as people type them: a whole number and a unit, `30s`, `5m`, `1h`, `1d` (also `500ms`).
 * The one place this is parsed: `discover --every`, `redrive --since` and the HTTP API's `since`.
 */
const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const DURATION = /^(\d{1,9})(ms|s|m|h|d)$/;

export const DURATION_RULE = "must be a whole number and a unit: ms, s, m, h or d (e.g. 30s, 5m, 1h, 1d)";

/**
 * Milliseconds of a duration, or undefined when it is not one (see DURATION_RULE). The text is
 * taken as it is: surrounding whitespace (" 1d", "1d\n") is refused, not trimmed, here and so for
 * the CLI and the HTTP API alike.
 */
export function parseDuration(text: string): number | undefined {
  const m = DURATION.exec(text);
  return m ? Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS] : undefined;
}

/** A duration string, parsed to milliseconds (at least 1 ms). */
export const durationSchema = z
  .string({ error: DURATION_RULE })
  .transform((text, ctx) => {
    const ms = parseDuration(text);
    if (ms === undefined || ms < 1) {
      ctx.addIssue({ code: "custom", message: DURATION_RULE });
      return z.NEVER;
    }
    return ms;
  })
  .describe("A duration: a whole number and a unit, ms, s, m, h or d (30s, 5m, 1h, 1d).");

/** A comma-separated list of durations (`5s,5m,1h`), parsed to milliseconds each; at least one. */
export const durationListSchema = z
  .union([z.string({ error: `a comma-separated list of durations: each ${DURATION_RULE}` }), z.array(z.number())])
  .transform((input, ctx) => {
    if (Array.isArray(input)) return input;
    const parts = input.split(",");
    const out: number[] = [];
    for (const [i, part] of parts.entries()) {
      const ms = parseDuration(part.trim());
      if (ms === undefined || ms < 1) {
        ctx.addIssue({ code: "custom", message: `item ${i + 1} ("${part}") ${DURATION_RULE}` });
        return z.NEVER;
      }
      out.push(ms);
    }
    return out;
  });
