import type { z } from "zod";

/** One broken rule, named by its field path (`identifier`, `metadata`, `(root)`). */
export interface FieldIssue {
  field: string;
  rule: string;
}

/**
 * Turns zod issues into `{ field, rule }` pairs that read well in CLI output, HTTP bodies and
 * InvalidJob outcomes: one entry per field, its broken rules joined with "; ". Rules are ours:
 * the schemas give most of them; whatever zod would have said in its own words ("Invalid input",
 * "Too small: expected…") is rewritten from the issue's data by `ruleOf`.
 */
export function toFieldIssues(error: z.ZodError): FieldIssue[] {
  const byField = new Map<string, string[]>();
  for (const issue of error.issues) {
    const field = issue.path.length > 0 ? issue.path.map(String).join(".") : "(root)";
    const rules = byField.get(field) ?? [];
    const rule = ruleOf(issue);
    if (!rules.includes(rule)) rules.push(rule);
    byField.set(field, rules);
  }
  return [...byField].map(([field, rules]) => ({ field, rule: rules.join("; ") }));
}

/** `identifier: must match ^pacinv-…$; catalog: must be 1-64 characters` */
export function formatFieldIssues(issues: FieldIssue[]): string {
  return issues.map((i) => `${i.field}: ${i.rule}`).join("; ");
}

/**
 * zod's English defaults all open with one of these words; the rules our schemas give never do
 * (they read "must …", "unknown field(s) …"). A message that opens so is zod's, and is rewritten.
 */
const ZOD_DEFAULT_MESSAGE =
  /^(Invalid|Too (big|small)|Unrecognized key|Expected|Required|Number must|String must|Array must)/;

/** The rule an issue broke, in our words: the schema's own message, or one made from the issue. */
export function ruleOf(issue: z.core.$ZodIssue): string {
  if (issue.message && !ZOD_DEFAULT_MESSAGE.test(issue.message)) return issue.message;
  switch (issue.code) {
    case "invalid_type":
      return issue.expected === "undefined" || issue.expected === "never"
        ? "must not be set"
        : `must be ${article(TYPE_NAMES[issue.expected] ?? issue.expected)}`;
    case "too_small":
      return `must be ${bound(issue.origin, "at least", issue.minimum, issue.inclusive, "more than")}`;
    case "too_big":
      return `must be ${bound(issue.origin, "at most", issue.maximum, issue.inclusive, "less than")}`;
    case "invalid_format":
      return issue.format === "regex" && "pattern" in issue && typeof issue.pattern === "string"
        ? `must match ${issue.pattern}`
        : `must be a valid ${FORMAT_NAMES[issue.format] ?? issue.format}`;
    case "not_multiple_of":
      return `must be a multiple of ${String(issue.divisor)}`;
    case "unrecognized_keys":
      return `unknown field(s): ${issue.keys.join(", ")}`;
    case "invalid_key":
      return "has a key that is not allowed";
    case "invalid_element":
      return "has a value that is not allowed";
    case "invalid_union":
      return "must be a JSON value (string, finite number, boolean, null, array or object)";
    case "invalid_value":
      return issue.values.length === 1
        ? `must be ${JSON.stringify(issue.values[0])}`
        : `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`;
    case "custom":
      return "breaks a rule of its field";
    default:
      return "is not valid";
  }
}

const TYPE_NAMES: Record<string, string> = {
  record: "JSON object",
  object: "JSON object",
  array: "array",
  string: "string",
  number: "number",
  int: "whole number",
  boolean: "boolean (true or false)",
  null: "null",
  bigint: "number",
  date: "date",
};

const FORMAT_NAMES: Record<string, string> = {
  datetime: "ISO-8601 date-time (2026-11-26T04:20:01.000Z)",
  date: "ISO-8601 date (2026-11-26)",
  url: "URL",
  email: "e-mail address",
  uuid: "UUID",
};

function article(noun: string): string {
  return noun === "null" ? "null" : `${/^[aeiou]/i.test(noun) ? "an" : "a"} ${noun}`;
}

function bound(
  origin: string,
  inclusiveWord: string,
  limit: unknown,
  inclusive: boolean | undefined,
  exclusiveWord: string,
): string {
  const n = String(limit);
  const word = inclusive === false ? exclusiveWord : inclusiveWord;
  switch (origin) {
    case "string":
      return `${word} ${n} characters`;
    case "array":
    case "set":
      return `${word} ${n} items`;
    case "file":
      return `${word} ${n} bytes`;
    default:
      return `${word === "at least" ? "≥" : word === "at most" ? "≤" : word === "more than" ? ">" : "<"} ${n}`;
  }
}
