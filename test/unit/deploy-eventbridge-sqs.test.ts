import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse, YAMLMap, YAMLSeq, type Tags } from "yaml";

/**
 * deploy/eventbridge-sqs.yaml, read as CloudFormation reads it: YAML with its short-form intrinsic
 * functions (!Ref, !GetAtt, !Sub…) turned into their long form, then each piece checked.
 */
const INTRINSICS = [
  "Ref",
  "GetAtt",
  "Sub",
  "Equals",
  "If",
  "Join",
  "Select",
  "Split",
  "FindInMap",
  "ImportValue",
  "Not",
  "And",
  "Or",
  "Base64",
  "Cidr",
  "GetAZs",
];
const cfnTags: Tags = INTRINSICS.flatMap((name) => {
  const key = name === "Ref" ? "Ref" : `Fn::${name}`;
  const wrap = (value: unknown) => ({
    [key]: name === "GetAtt" && typeof value === "string" ? value.split(".") : value,
  });
  return [
    { tag: `!${name}`, identify: () => false, resolve: (s: string) => wrap(s) } as never,
    {
      tag: `!${name}`,
      collection: "seq",
      nodeClass: YAMLSeq,
      identify: () => false,
      resolve: (seq: YAMLSeq) => wrap(seq.toJSON()),
    } as never,
    {
      tag: `!${name}`,
      collection: "map",
      nodeClass: YAMLMap,
      identify: () => false,
      resolve: (map: YAMLMap) => wrap(map.toJSON()),
    } as never,
  ];
});

type Template = {
  Resources: Record<string, { Type: string; Properties: Record<string, any> }>;
  Outputs: Record<string, any>;
  Parameters: Record<string, any>;
};
const template = parse(readFileSync(new URL("../../deploy/eventbridge-sqs.yaml", import.meta.url), "utf8"), {
  customTags: cfnTags,
}) as Template;
const byType = (type: string) => Object.entries(template.Resources).filter(([, r]) => r.Type === type);

describe("deploy/eventbridge-sqs.yaml", () => {
  it("every !Ref and !GetAtt names a resource or parameter of the template", () => {
    const names = new Set([
      ...Object.keys(template.Resources),
      ...Object.keys(template.Parameters),
      "AWS::Region",
      "AWS::StackName",
      "AWS::AccountId",
    ]);
    const walk = (v: unknown): void => {
      if (Array.isArray(v)) {
        for (const x of v) walk(x);
        return;
      }
      if (v && typeof v === "object") {
        for (const [k, x] of Object.entries(v)) {
          if (k === "Ref") expect(names, `Ref ${x}`).toContain(x);
          if (k === "Fn::GetAtt") expect(template.Resources, `GetAtt ${x}`).toHaveProperty([(x as string[])[0]!]);
          walk(x);
        }
      }
    };
    walk(template.Resources);
    walk(template.Outputs);
  });

  it(
    "an EventBridge rule on the default bus for source " +
      "aws.partnercentral-account and the six detail types, to the queue",
    () => {
      const [[, rule]] = byType("AWS::Events::Rule") as [[string, any]];
      expect(rule.Properties.EventBusName).toBe("default");
      expect(rule.Properties.EventPattern.source).toEqual(["aws.partnercentral-account"]);
      expect(rule.Properties.EventPattern["detail-type"]).toEqual(
        expect.arrayContaining([
          "Partner Connection Invitation Received",
          "Partner Connection Invitation Cancelled",
          "Partner Connection Invitation Expired",
          "Partner Connection Invitation Accepted",
          "Partner Connection Cancelled",
        ]),
      );
      expect(rule.Properties.Targets[0].Arn).toEqual({ "Fn::GetAtt": ["EventsQueue", "Arn"] });
    },
  );

  it("a queue with a redrive policy to its dead-letter queue", () => {
    const queue = template.Resources.EventsQueue!;
    expect(queue.Type).toBe("AWS::SQS::Queue");
    expect(queue.Properties.RedrivePolicy.deadLetterTargetArn).toEqual({
      "Fn::GetAtt": ["EventsDeadLetterQueue", "Arn"],
    });
    expect(queue.Properties.RedrivePolicy.maxReceiveCount).toEqual({ Ref: "MaxReceiveCount" });
    expect(template.Resources.EventsDeadLetterQueue!.Type).toBe("AWS::SQS::Queue");
  });

  it("a queue policy letting EventBridge send, from the rule only", () => {
    const [[, policy]] = byType("AWS::SQS::QueuePolicy") as [[string, any]];
    const [statement] = policy.Properties.PolicyDocument.Statement;
    expect(statement).toMatchObject({
      Effect: "Allow",
      Principal: { Service: "events.amazonaws.com" },
      Action: "sqs:SendMessage",
    });
    expect(statement.Condition.ArnEquals["aws:SourceArn"]).toEqual({
      "Fn::GetAtt": ["PartnerCentralEventsRule", "Arn"],
    });
  });

  it(
    "IAM for ingest (receive, delete, change visibility; Partner Central " +
      "reads) and for workers (accept, reject, reads)",
    () => {
      const actions = (name: string) =>
        (template.Resources[name]!.Properties.PolicyDocument.Statement as Array<{ Action: string[] }>).flatMap(
          (s) => s.Action,
        );
      expect(actions("IngestPolicy")).toEqual(
        expect.arrayContaining([
          "sqs:ReceiveMessage",
          "sqs:DeleteMessage",
          "sqs:ChangeMessageVisibility",
          "partnercentral:GetConnectionInvitation",
        ]),
      );
      expect(actions("WorkerPolicy")).toEqual(
        expect.arrayContaining([
          "partnercentral:AcceptConnectionInvitation",
          "partnercentral:RejectConnectionInvitation",
          "partnercentral:GetConnectionInvitation",
        ]),
      );
      expect(template.Outputs.QueueUrl.Value).toEqual({ Ref: "EventsQueue" });
    },
  );
});
