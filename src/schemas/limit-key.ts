import { z } from "zod";

/**
 * A rate-limit key (`RATE_LIMIT_KEY`, `limits --key`, the limiter's Redis key): free-form, so a
 * deployment can name a limit after a catalog or a credential profile, but printable and bounded
 * so it is always a safe part of a Redis key. The one place this rule is written.
 */
export const LIMIT_KEY_PATTERN = /^[\x21-\x7e]{1,128}$/;
export const LIMIT_KEY_RULE = "must be 1-128 printable ASCII characters without spaces";

export const limitKeySchema = z.string().regex(LIMIT_KEY_PATTERN, { error: LIMIT_KEY_RULE });

/** The rule a limit key breaks, or undefined when it is a valid key. */
export function limitKeyIssue(key: string): string | undefined {
  return LIMIT_KEY_PATTERN.test(key) ? undefined : LIMIT_KEY_RULE;
}
