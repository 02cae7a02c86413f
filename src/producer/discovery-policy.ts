import { hash } from "node:crypto";
import { Lexer, Parser, parse as parseYaml } from "yaml";
import { canonicalJson } from "../request-record/fingerprint.js";
import type { InvitationSummary } from "../aws/invitation-api.js";
import { PolicyValidationError } from "../errors/index.js";
import { toFieldIssues } from "../schemas/issues.js";
import {
  discoveryPolicySchema,
  POLICY_MAX_BYTES,
  POLICY_MAX_DEPTH,
  type DiscoveryPolicy,
  type PolicyDecision,
} from "../schemas/policy.js";

/**
 * A discovery policy from text (a file's content): JSON or YAML (YAML 1.2 reads JSON as well,
 * duplicate keys are refused), then the policy schema. Every error names the field, the rule
 * among them (`rules.2.when.connectionTypes.0: must be one of …`).
 *
 * Bounded whatever the text holds: at most POLICY_MAX_BYTES, lists and objects nested at most
 * POLICY_MAX_DEPTH deep (checked by a pass that stops at the first level too deep, before the
 * YAML library builds anything: its composer recurses, and a few hundred kilobytes of `[[[[` would
 * cost seconds and hundreds of megabytes before overflowing the stack), and no alias (`*x`: a
 * policy has no use for them, and each may expand to a whole subtree). An empty document (nothing,
 * `null`, `~`) is refused, as the HTTP API refuses `"policy": null`: leave the policy out to hold
 * every invitation.
 * @throws PolicyValidationError
 */
export function parsePolicyText(text: string, source?: string): DiscoveryPolicy {
  const refuse = (rule: string) => new PolicyValidationError([{ field: "(file)", rule }], source);
  const bytes = Buffer.byteLength(text, "utf8");
  if (bytes > POLICY_MAX_BYTES) throw refuse(policySizeRule(bytes));
  const body = text.replace(/^\uFEFF/, "");
  if (nestingExceeds(body, POLICY_MAX_DEPTH))
    throw refuse(`must not nest lists and objects more than ${POLICY_MAX_DEPTH} deep (a policy needs 5)`);
  let value: unknown;
  try {
    value = parseYaml(body, { uniqueKeys: true, maxAliasCount: 0 });
  } catch (err) {
    const message = (err as Error).message.split("\n")[0]!;
    throw refuse(`must be JSON or YAML: ${message}`);
  }
  if (value === null || value === undefined)
    throw refuse(
      "must be an object with default and rules, not an empty document (nothing, null or ~); " +
        "without a policy every invitation is held",
    );
  return parsePolicy(value, source);
}

/** The size rule, for a text or file of `bytes` bytes over POLICY_MAX_BYTES. */
export function policySizeRule(bytes: number | "more"): string {
  return `must be at most ${POLICY_MAX_BYTES} bytes (1 MiB), ${bytes === "more" ? "is more" : `is ${bytes}`}`;
}

/**
 * Whether `text` nests collections deeper than `max`, read with the YAML library's own lexer and
 * CST parser (which keep their nesting on an array, not the call stack) and stopped as soon as it
 * does: the cost of a hostile text ends at its first `max` levels.
 */
function nestingExceeds(text: string, max: number): boolean {
  const parser = new Parser();
  for (const lexeme of new Lexer().lex(text)) {
    for (const _ of parser.next(lexeme));
    // The stack holds the document, then one entry per collection (and the scalar being read).
    if (parser.stack.length - 1 > max) return true;
  }
  return false;
}

/** A policy given as a value (an HTTP body's `policy`, a scheduled discovery's data). @throws PolicyValidationError */
export function parsePolicy(value: unknown, source?: string): DiscoveryPolicy {
  const parsed = discoveryPolicySchema.safeParse(value);
  if (!parsed.success) throw new PolicyValidationError(toFieldIssues(parsed.error), source);
  return parsed.data;
}

/** What the policy decided for one invitation, and which rule decided (null: the default). */
export interface PolicyVerdict {
  decision: PolicyDecision;
  rule: number | null;
  /** The deciding rule's reason, for a reject. */
  reason?: string;
}

/**
 * The first rule whose conditions all hold decides; `default` otherwise. Conditions on what a list
 * summary carries are checked first; the inviter's e-mail (which only GetConnectionInvitation
 * gives) is asked for only when a rule's other conditions already hold, and at most once.
 */
export async function applyPolicy(
  policy: DiscoveryPolicy,
  invitation: InvitationSummary,
  inviterEmail: () => Promise<string | null>,
): Promise<PolicyVerdict> {
  let email: Promise<string | null> | undefined;
  for (const [index, rule] of policy.rules.entries()) {
    const when = rule.when ?? {};
    if (
      when.otherParticipantIdentifiers &&
      !when.otherParticipantIdentifiers.includes(invitation.otherParticipantIdentifier ?? "")
    )
      continue;
    if (when.connectionTypes && !(when.connectionTypes as readonly string[]).includes(invitation.connectionType ?? ""))
      continue;
    if (when.inviterEmailDomains) {
      const domain = emailDomain(await (email ??= inviterEmail()));
      if (domain === undefined || !when.inviterEmailDomains.some((d) => d.toLowerCase() === domain)) continue;
    }
    return { decision: rule.action, rule: index, ...(rule.reason !== undefined ? { reason: rule.reason } : {}) };
  }
  return { decision: policy.default, rule: null };
}

/** The domain of an e-mail address, lower-case; undefined without one. */
function emailDomain(email: string | null): string | undefined {
  const at = email?.lastIndexOf("@") ?? -1;
  return email && at > 0 ? email.slice(at + 1).toLowerCase() : undefined;
}

/**
 * A short, stable name of a policy's content (the first 16 hex digits of the SHA-256 of its
 * canonical JSON): what a held invitation and its outcome say held it, so a person can tell which
 * version of the policy did.
 */
export function policyHash(policy: DiscoveryPolicy): string {
  return hash("sha256", canonicalJson(policy), "hex").slice(0, 16);
}
