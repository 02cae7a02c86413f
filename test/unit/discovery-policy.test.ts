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
    expect(parsePolicyText("\uFEFF{}")).toEqual({ default: "hold", rules: [] });
  });

  it.each(["", "   \n", "# only a comment\n", "null", "~", "---\n", "\uFEFF"])(
    "refuses an empty document %j, as the HTTP API refuses a null policy",
    (text) => {
      const err = policyError(() => parsePolicyText(text, "policy.yaml"));
      expect(err.issues).toEqual([
        {
          field: "(file)",
          rule:
            "must be an object with default and rules, not an empty document (nothing, null or ~); " +
            "without a policy every invitation is held",
        },
      ]);
    },
  );

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

describe("discovery policy: bounded parsing", () => {
  const DEPTH_RULE = "must not nest lists and objects more than 32 deep (a policy needs 5)";

  it.each<[string, number, (n: number) => string]>([
    ["JSON lists", 200_000, (n) => `{"rules":${"[".repeat(n)}${"]".repeat(n)}}`],
    ["JSON objects", 100_000, (n) => `${'{"a":'.repeat(n)}1${"}".repeat(n)}`],
    ["YAML block lists", 200_000, (n) => `rules:\n  ${"- ".repeat(n)}x\n`],
    // Each level one more space: 1,000 levels are half a megabyte.
    [
      "YAML indentation",
      1000,
      (n) => `${Array.from({ length: n }, (_, i) => `${" ".repeat(i)}k${i}:`).join("\n")} 1\n`,
    ],
  ])("refuses %s nested past 32 levels by a rule, also %i deep (no stack overflow)", (_, deepest, nest) => {
    for (const depth of [33, deepest]) {
      expect(policyError(() => parsePolicyText(nest(depth), "deep.json")).issues, `${depth}`).toEqual([
        { field: "(file)", rule: DEPTH_RULE },
      ]);
    }
  });

  it("accepts a policy nested as deep as a policy goes, in JSON and YAML", () => {
    const policy = { default: "hold", rules: [{ action: "accept", when: { connectionTypes: ["SUBSIDIARY"] } }] };
    expect(parsePolicyText(JSON.stringify(policy))).toEqual(policy);
    expect(
      parsePolicyText("rules:\n  - action: accept\n    when:\n      connectionTypes:\n        - SUBSIDIARY\n"),
    ).toEqual(policy);
  });

  it("refuses YAML aliases (each may expand to a whole subtree)", () => {
    const text = "default: hold\nrules:\n  - &rule {action: accept}\n  - *rule\n";
    const err = policyError(() => parsePolicyText(text, "aliases.yaml"));
    expect(err.issues).toHaveLength(1);
    expect(err.issues[0]!.field).toBe("(file)");
    expect(err.issues[0]!.rule).toMatch(/^must be JSON or YAML: .*alias/i);
  });

  it("refuses a text over 1 MiB before parsing it, naming its size", () => {
    const text = `{"default":"hold"}${" ".repeat(1_048_576)}`;
    expect(policyError(() => parsePolicyText(text, "big.json")).issues).toEqual([
      { field: "(file)", rule: `must be at most 1048576 bytes (1 MiB), is ${1_048_576 + 18}` },
    ]);
    // Exactly 1 MiB is a policy like any other.
    expect(parsePolicyText(`{"default":"hold"}${" ".repeat(1_048_576 - 18)}`)).toEqual({ default: "hold", rules: [] });
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
