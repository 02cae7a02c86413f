import { parse as parseYaml } from "yaml";
import type { InvitationSummary } from "../aws/invitation-api.js";
import { PolicyValidationError } from "../errors/index.js";
import { toFieldIssues } from "../schemas/issues.js";
import { discoveryPolicySchema, type DiscoveryPolicy, type PolicyDecision } from "../schemas/policy.js";

/**
 * A discovery policy from text (a file's content): JSON or YAML (YAML 1.2 reads JSON as well,
 * duplicate keys are refused), then the policy schema. Every error names the field, the rule
 * among them (`rules.2.when.connectionTypes.0: must be one of …`).
 * @throws PolicyValidationError
 */
export function parsePolicyText(text: string, source?: string): DiscoveryPolicy {
  let value: unknown;
  try {
    value = parseYaml(text.replace(/^\uFEFF/, ""), { uniqueKeys: true, maxAliasCount: 0 });
  } catch (err) {
    const message = (err as Error).message.split("\n")[0]!;
    throw new PolicyValidationError([{ field: "(file)", rule: `must be JSON or YAML: ${message}` }], source);
  }
  return parsePolicy(value ?? {}, source);
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
