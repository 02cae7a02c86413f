import { acceptRequestSchema, type AcceptRequest } from "../contracts/request.js";
import { toFieldIssues, type FieldIssue } from "../schemas/issues.js";

export type ValidationResult = { ok: true; request: AcceptRequest } | { ok: false; issues: FieldIssue[] };

/** Checks one request against the contract; the same rules for library, CLI and HTTP. */
export function validateRequest(input: unknown): ValidationResult {
  const parsed = acceptRequestSchema.safeParse(input);
  return parsed.success ? { ok: true, request: parsed.data } : { ok: false, issues: toFieldIssues(parsed.error) };
}
