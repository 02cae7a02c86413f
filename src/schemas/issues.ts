import type { z } from "zod";

/** One broken rule, named by its field path (`identifier`, `metadata`, `(root)`). */
export interface FieldIssue {
  field: string;
  rule: string;
}

/**
 * Turns zod issues into `{ field, rule }` pairs that read well in CLI output and HTTP bodies:
 * one entry per field, its broken rules joined with "; ".
 */
export function toFieldIssues(error: z.ZodError): FieldIssue[] {
  const byField = new Map<string, string[]>();
  for (const issue of error.issues) {
    const field = issue.path.length > 0 ? issue.path.map(String).join(".") : "(root)";
    const rules = byField.get(field) ?? [];
    if (!rules.includes(issue.message)) rules.push(issue.message);
    byField.set(field, rules);
  }
  return [...byField].map(([field, rules]) => ({ field, rule: rules.join("; ") }));
}

/** `identifier: must match ^pacinv-…$; catalog: must be 1-64 characters` */
export function formatFieldIssues(issues: FieldIssue[]): string {
  return issues.map((i) => `${i.field}: ${i.rule}`).join("; ");
}
