import type { z } from "zod";

/** One broken rule, named by its field path (`identifier`, `metadata`, `(root)`). */
export interface FieldIssue {
  field: string;
  rule: string;
}

/** Turns zod issues into `{ field, rule }` pairs that read well in CLI output and HTTP bodies. */
export function toFieldIssues(error: z.ZodError): FieldIssue[] {
  return error.issues.map((issue) => ({
    field: issue.path.length > 0 ? issue.path.map(String).join(".") : "(root)",
    rule: issue.message,
  }));
}

/** `identifier: must match ^pacinv-…$; catalog: must be 1-64 characters` */
export function formatFieldIssues(issues: FieldIssue[]): string {
  return issues.map((i) => `${i.field}: ${i.rule}`).join("; ");
}
