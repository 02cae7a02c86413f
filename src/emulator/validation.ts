/**
 * Server-side input validation with the exact, anchored Smithy constraints of
 * the Partner Central Account model (API reference §2.1 and §4.2).
 *
 * The JS SDK validates nothing client-side, so this is the only place where
 * patterns, lengths and required members are enforced. Every bad member yields
 * one `FieldValidationError` entry; all entries are reported together in one
 * 400 ValidationException with Reason REQUEST_VALIDATION_FAILED.
 */
import { fail, type FieldValidationError } from "./wire.js";

export interface StringRule {
  kind?: "string";
  required: boolean;
  /** Length bounds in Unicode code points (Smithy `@length` semantics). */
  min?: number;
  max?: number;
  pattern?: RegExp;
  enumValues?: readonly string[];
}

/** A Smithy integer with `@range`. */
export interface IntegerRule {
  kind: "integer";
  required: boolean;
  min: number;
  max: number;
}

/** A Smithy list of strings, optionally `@uniqueItems` and `@length(max)`. */
export interface StringListRule {
  kind: "list";
  required: boolean;
  maxItems?: number;
  unique?: boolean;
  item: StringRule;
}

export type MemberRule = StringRule | IntegerRule | StringListRule;

export type InputRules = Readonly<Record<string, MemberRule>>;

export const PATTERNS = {
  catalog: /^[a-zA-Z0-9-]+$/,
  invitationId: /^pacinv-[A-Za-z0-9]{13}$/,
  connectionId: /^pac-[A-Za-z0-9]{13}$/,
  /** Model text: `^[A-Za-z0-9-_]+$` (letters, digits, '-' and '_'). */
  clientToken: /^[A-Za-z0-9_-]+$/,
  participantIdentifier: /^[a-zA-Z0-9-]+$/,
  email: new RegExp(
    String.raw`^[a-zA-Z0-9.!#$%&'*+/=?^_\`{|}~-]+@[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?` +
      String.raw`(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$`,
  ),
  unicodeString: /^[\u0020-\u007E\u00A0-\uD7FF\uE000-\uFFFD]+$/,
  /** The newer model also allows `\n` in the invitation message; accept the wider set. */
  unicodeStringWithNewline: /^[\n\u0020-\u007E\u00A0-\uD7FF\uE000-\uFFFD]+$/,
  accountId: /^[0-9]{12}$/,
  nextToken: /^[\S]+$/,
  /** `ConnectionTypeFilter` of ListConnections: a type, optionally `:<status>`. */
  connectionTypeFilter: /^[a-zA-Z_-]+(:[a-zA-Z]+)?$/,
  sellerProfileId: /^[a-zA-Z0-9-]+$/,
} as const;

export const CATALOG: StringRule = { required: true, min: 1, max: 64, pattern: PATTERNS.catalog };
export const INVITATION_ID: StringRule = { required: true, pattern: PATTERNS.invitationId };
export const CLIENT_TOKEN: StringRule = { required: true, min: 1, max: 64, pattern: PATTERNS.clientToken };
export const NEXT_TOKEN: StringRule = { required: false, min: 1, max: 2048, pattern: PATTERNS.nextToken };
/** `@range(min: 1, max: 100)`, `@default(20)` on both List operations. */
export const MAX_RESULTS: IntegerRule = { kind: "integer", required: false, min: 1, max: 100 };
/** `@uniqueItems`; the newer model and botocore also cap it at 100. */
export const PARTICIPANT_IDENTIFIERS: StringListRule = {
  kind: "list",
  required: false,
  maxItems: 100,
  unique: true,
  item: { required: true, min: 1, max: 100, pattern: PATTERNS.participantIdentifier },
};

function codePointLength(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** Returns the violation of one member, or undefined if it satisfies its rule. */
export function checkMember(name: string, value: unknown, rule: MemberRule): FieldValidationError | undefined {
  if (value === undefined || value === null) {
    return rule.required
      ? { Name: name, Code: "REQUIRED_FIELD_MISSING", Message: `Member '${name}' is required` }
      : undefined;
  }
  if (rule.kind === "integer") return checkInteger(name, value, rule);
  if (rule.kind === "list") return checkList(name, value, rule);
  return checkString(name, value, rule);
}

function checkInteger(name: string, value: unknown, rule: IntegerRule): FieldValidationError | undefined {
  if (typeof value !== "number" || !Number.isInteger(value)) {
    return { Name: name, Code: "INVALID_VALUE", Message: `Member '${name}' must be an integer` };
  }
  if (value < rule.min || value > rule.max) {
    return {
      Name: name,
      Code: "INVALID_VALUE",
      Message: `Member '${name}' must be between ${rule.min} and ${rule.max}, got ${value}`,
    };
  }
  return undefined;
}

function checkList(name: string, value: unknown, rule: StringListRule): FieldValidationError | undefined {
  if (!Array.isArray(value)) return { Name: name, Code: "INVALID_VALUE", Message: `Member '${name}' must be a list` };
  if (rule.maxItems !== undefined && value.length > rule.maxItems) {
    return {
      Name: name,
      Code: "TOO_MANY_VALUES",
      Message: `Member '${name}' must have at most ${rule.maxItems} items, got ${value.length}`,
    };
  }
  for (const [i, item] of value.entries()) {
    const bad = checkString(`${name}[${i}]`, item, rule.item);
    if (bad) return { ...bad, Name: name };
  }
  if (rule.unique && new Set(value).size !== value.length) {
    return { Name: name, Code: "DUPLICATE_VALUE", Message: `Member '${name}' must not contain duplicate values` };
  }
  return undefined;
}

function checkString(name: string, value: unknown, rule: StringRule): FieldValidationError | undefined {
  if (value === undefined || value === null) {
    return rule.required
      ? { Name: name, Code: "REQUIRED_FIELD_MISSING", Message: `Member '${name}' is required` }
      : undefined;
  }
  if (typeof value !== "string") {
    return { Name: name, Code: "INVALID_VALUE", Message: `Member '${name}' must be a string` };
  }
  if (rule.enumValues && !rule.enumValues.includes(value)) {
    return {
      Name: name,
      Code: "INVALID_ENUM_VALUE",
      Message: `Member '${name}' must be one of: ${rule.enumValues.join(", ")}`,
    };
  }
  const len = codePointLength(value);
  if ((rule.min !== undefined && len < rule.min) || (rule.max !== undefined && len > rule.max)) {
    return {
      Name: name,
      Code: "INVALID_STRING_FORMAT",
      Message: `Member '${name}' must have length between ${rule.min ?? 0} and ${rule.max ?? "unbounded"}`,
    };
  }
  if (rule.pattern && !rule.pattern.test(value)) {
    return {
      Name: name,
      Code: "INVALID_STRING_FORMAT",
      Message: `Member '${name}' must satisfy regular expression pattern: ${rule.pattern.source}`,
    };
  }
  return undefined;
}

/** Pure check: every violation, in rule order. */
export function collectViolations(input: Record<string, unknown>, rules: InputRules): FieldValidationError[] {
  const out: FieldValidationError[] = [];
  for (const [name, rule] of Object.entries(rules)) {
    const v = checkMember(name, input[name], rule);
    if (v) out.push(v);
  }
  return out;
}

/** Throws a 400 ValidationException (one ErrorDetails entry per bad member) if any member is invalid. */
export function validateInput(input: Record<string, unknown>, rules: InputRules): void {
  const violations = collectViolations(input, rules);
  if (violations.length === 0) return;
  const n = violations.length;
  fail(
    "ValidationException",
    `${n} validation error${n === 1 ? "" : "s"} detected: ${violations.map((v) => v.Message).join("; ")}`,
    {
      reason: "REQUEST_VALIDATION_FAILED",
      errorDetails: violations.map((v) => ({ FieldValidationError: v })),
    },
  );
}
