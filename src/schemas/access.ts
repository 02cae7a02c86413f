import { z } from "zod";

/**
 * Who may do what: the shapes of the access model (issue 20). Machines hold named tokens with
 * scopes; people log in with a password and have a role. The rules are shared by the CLI
 * (`tokens add`, `users add`), the store and the console's login form.
 */

/**
 * What a token opens:
 * - `enqueue`: POST /v1/acceptances (and /batch), POST /v1/discoveries;
 * - `read`: GET /v1/acceptances…, GET /v1/status, GET /v1/held;
 * - `decide`: POST /v1/held/{catalog}/{identifier}/decision;
 * - `control`: cancel, redrive (POST /v1/acceptances/{id}/cancel, POST /v1/redrives);
 * - `admin`: the console and the dashboard (/admin/queues), as an operator.
 * Scopes are exact: `admin` does not imply the others (a token for a person's script gets what it needs).
 */
export const SCOPES = ["enqueue", "read", "decide", "control", "admin"] as const;
export const scopeSchema = z.enum(SCOPES, { error: `must be one of ${SCOPES.join(", ")}` });
export type Scope = z.infer<typeof scopeSchema>;

/** A viewer reads every page of the console; an operator also decides, cancels, redrives and changes limits. */
export const ROLES = ["viewer", "operator"] as const;
export const roleSchema = z.enum(ROLES, { error: `must be one of ${ROLES.join(", ")}` });
export type Role = z.infer<typeof roleSchema>;

/** A token's or a person's name: recorded on every decision (`decidedBy`), so short and plain. */
export const accessNameSchema = z.string({ error: "must be a string" }).regex(/^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/, {
  error: "must be 1-64 characters: letters, digits, '.', '_', '@', '-' (starting with a letter or digit)",
});

/** A person's password: long enough to resist guessing, short enough to bound the hash's input. */
export const passwordSchema = z
  .string({ error: "must be a string" })
  .min(12, { error: "must be at least 12 characters" })
  .max(1024, { error: "must be at most 1024 characters" });

export const scopesSchema = z
  .array(scopeSchema)
  .min(1, { error: "must name at least one scope" })
  .transform((s) => [...new Set(s)].sort() as Scope[]);

/** The login form: the same rules as `users add`. */
export const loginSchema = z.object({
  username: accessNameSchema,
  password: z
    .string({ error: "must be a string" })
    .min(1, { error: "must not be empty" })
    .max(1024, { error: "must be at most 1024 characters" }),
});
