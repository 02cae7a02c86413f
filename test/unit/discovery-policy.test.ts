import { describe, expect, it } from "vitest";
import { applyPolicy, parsePolicy, parsePolicyText } from "../../src/producer/discovery-policy.js";
import { PolicyValidationError } from "../../src/errors/index.js";
import type { InvitationSummary } from "../../src/aws/invitation-api.js";
import type { DiscoveryPolicy } from "../../src/schemas/policy.js";

const inv = (extra: Partial<InvitationSummary> = {}): InvitationSummary => ({
  catalog: "AWS",
  identifier: "pacinv-ABCDEFGHIJKLM",
  status: "PENDING",
  connectionType: "OPPORTUNITY_COLLABORATION",
  participantType: "RECEIVER",
  otherParticipantIdentifier: "111122223333",
  createdAt: null,
  expiresAt: null,
  ...extra,
});

const policyError = (f: () => unknown): PolicyValidationError => {
  try {
    f();
  } catch (err) {
    if (err instanceof PolicyValidationError) return err;
    throw err;
  }
  throw new Error("expected a PolicyValidationError");
};

describe("discovery policy: parsing", () => {
  it("reads JSON and YAML alike, with hold and no rules as defaults", () => {
    const json = parsePolicyText(
      '{"default":"hold","rules":[{"action":"accept","when":{"connectionTypes":["SUBSIDIARY"]}}]}',
    );
    const yaml = parsePolicyText(
      "default: hold\nrules:\n  - action: accept\n    when:\n      connectionTypes: [SUBSIDIARY]\n",
    );
    expect(yaml).toEqual(json);
    expect(parsePolicyText("{}")).toEqual({ default: "hold", rules: [] });
    expect(parsePolicyText("")).toEqual({ default: "hold", rules: [] });
    expect(parsePolicyText("\uFEFF{}")).toEqual({ default: "hold", rules: [] });
  });

  it.each<[string, string, string]>([
    [
      '{"rules":[{"action":"accept"},{"action":"reject","when":{"connectionTypes":["SUBSIDARY"]}}]}',
      "rules.1.when.connectionTypes.0",
      "must be one of OPPORTUNITY_COLLABORATION, SUBSIDIARY",
    ],
    ['{"rules":[{"action":"approve"}]}', "rules.0.action", 'must be "accept", "reject" or "hold"'],
    ['{"rules":[{"action":"accept","reason":"why"}]}', "rules.0.reason", 'only allowed with action "reject"'],
    [`{"rules":[{"action":"reject","reason":"${"x".repeat(257)}"}]}`, "rules.0.reason", "at most 256 characters"],
    [
      '{"rules":[{"action":"accept","when":{"otherParticipantIdentifiers":[]}}]}',
      "rules.0.when.otherParticipantIdentifiers",
      "at least one value",
    ],
    [
      '{"rules":[{"action":"accept","when":{"otherParticipantIdentifiers":["acme corp"]}}]}',
      "rules.0.when.otherParticipantIdentifiers.0",
      "must match ^[a-zA-Z0-9-]+$",
    ],
    [
      '{"rules":[{"action":"accept","when":{"inviterEmailDomains":["@acme.example"]}}]}',
      "rules.0.when.inviterEmailDomains.0",
      "must be a domain name",
    ],
    ['{"rules":[{"action":"accept","when":{"partner":"x"}}]}', "rules.0.when", "unknown field(s): partner"],
    ['{"rules":[{"action":"accept","if":{}}]}', "rules.0", "unknown field(s): if"],
    ['{"default":"maybe"}', "default", 'must be "accept", "reject" or "hold"'],
    ['{"rules":{}}', "rules", "must be a list of rules"],
    ["[1,2]", "(root)", "must be an object"],
    ["rules: [\n", "(file)", "must be JSON or YAML"],
    ['{"default":"hold","default":"accept"}', "(file)", "must be JSON or YAML"],
  ])("refuses %s naming the rule and field", (text, field, rule) => {
    const err = policyError(() => parsePolicyText(text, "policy.yaml"));
    const issue = err.issues.find((i) => i.field === field);
    expect(issue, JSON.stringify(err.issues)).toBeDefined();
    expect(issue!.rule).toContain(rule);
    expect(err.message).toContain("invalid policy policy.yaml: ");
    expect(err.message).toContain(field);
  });

  it("names every bad field at once", () => {
    const err = policyError(() =>
      parsePolicy({
        default: "x",
        rules: [
          { action: "accept", reason: "r" },
          { action: "reject", when: { connectionTypes: ["X"] } },
        ],
      }),
    );
    expect(err.issues.map((i) => i.field).sort()).toEqual([
      "default",
      "rules.0.reason",
      "rules.1.when.connectionTypes.0",
    ]);
  });
});

describe("discovery policy: deciding", () => {
  const noEmail = async () => {
    throw new Error("the e-mail must not be read");
  };

  it("holds everything without rules", async () => {
    expect(await applyPolicy({ default: "hold", rules: [] }, inv(), noEmail)).toEqual({ decision: "hold", rule: null });
  });

  it("lets the first matching rule decide: every condition must hold, any value of a list matches", async () => {
    const policy: DiscoveryPolicy = {
      default: "hold",
      rules: [
        {
          action: "reject",
          reason: "no subsidiaries from Acme",
          when: { otherParticipantIdentifiers: ["111122223333"], connectionTypes: ["SUBSIDIARY"] },
        },
        { action: "accept", when: { otherParticipantIdentifiers: ["999999999999", "111122223333"] } },
        { action: "reject" },
      ],
    };
    expect(await applyPolicy(policy, inv({ connectionType: "SUBSIDIARY" }), noEmail)).toEqual({
      decision: "reject",
      rule: 0,
      reason: "no subsidiaries from Acme",
    });
    expect(await applyPolicy(policy, inv(), noEmail)).toEqual({ decision: "accept", rule: 1 });
    expect(await applyPolicy(policy, inv({ otherParticipantIdentifier: "222233334444" }), noEmail)).toEqual({
      decision: "reject",
      rule: 2,
    });
    expect(
      await applyPolicy(
        { ...policy, rules: policy.rules.slice(0, 2), default: "accept" },
        inv({ otherParticipantIdentifier: null }),
        noEmail,
      ),
    ).toEqual({ decision: "accept", rule: null });
  });

  it(
    "reads the inviter's e-mail only when a rule's other conditions " +
      "hold, at most once, and compares domains without case",
    async () => {
      let reads = 0;
      const email = (address: string | null) => async () => {
        reads++;
        return address;
      };
      const policy: DiscoveryPolicy = {
        default: "hold",
        rules: [
          { action: "accept", when: { connectionTypes: ["SUBSIDIARY"], inviterEmailDomains: ["acme.example"] } },
          { action: "reject", when: { inviterEmailDomains: ["Globex.Example"] } },
          { action: "accept", when: { inviterEmailDomains: ["acme.example"] } },
        ],
      };
      expect(await applyPolicy(policy, inv(), email("bob@GLOBEX.example"))).toEqual({ decision: "reject", rule: 1 });
      expect(reads).toBe(1);
      reads = 0;
      expect(await applyPolicy(policy, inv({ connectionType: "SUBSIDIARY" }), email("ann@sub.acme.example"))).toEqual({
        decision: "hold",
        rule: null,
      });
      expect(reads).toBe(1);
      reads = 0;
      expect(await applyPolicy(policy, inv(), email(null))).toEqual({ decision: "hold", rule: null });
      expect(
        await applyPolicy(
          {
            default: "hold",
            rules: [
              { action: "accept", when: { connectionTypes: ["SUBSIDIARY"], inviterEmailDomains: ["x.example"] } },
            ],
          },
          inv(),
          email("a@x.example"),
        ),
      ).toEqual({
        decision: "hold",
        rule: null,
      });
      expect(reads).toBe(1);
    },
  );
});
