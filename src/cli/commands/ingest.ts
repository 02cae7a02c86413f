import { startIngest } from "../../app/ingest.js";
import { HOLD_ALL_POLICY } from "../../schemas/policy.js";
import { UsageError } from "../args.js";
import { defineCommand, type OptionValues } from "../define-command.js";
import { FORCED_EXIT_CODE, firstSignal, prepareRuntime } from "../runtime.js";
import { readPolicy } from "./discover.js";

const details = `Usage:
  pc-invitations ingest --queue-url URL [--policy FILE]

Acts on AWS Partner Central's events the moment they arrive (docs/events.md): long-polls the SQS
queue an EventBridge rule feeds (deploy/eventbridge-sqs.yaml), in batches of 10, and per event:
  Received            the policy decides (sender's profile, connection type, inviter's e-mail, as
                      the event carries them): accept/reject enqueued under <catalog>.<identifier>
                      (a repeated event is a duplicate), hold recorded for a person
  Cancelled, Expired  a request not yet started ends canceled with the reason; a held one is closed
  Accepted            a held one is closed (accepted elsewhere)
  Connection Cancelled, Rejected, unknown types: logged
A message that is not a valid event is logged once (the field and the rule) and left for the
queue's redrive policy (dead-letter queue); a message is deleted only after its work is recorded.
Run as many processes as you like. SQS errors: backs off up to INGEST_BACKOFF_MAX_MS.
Polling discovery (discover --every) stays the backstop for events EventBridge does not deliver.

  --queue-url URL  the SQS queue (https://sqs.us-east-1.amazonaws.com/ACCOUNT/NAME)
  --policy FILE    as discover's (JSON or YAML); without it every invitation is held

Config: AWS_ENDPOINT_URL_SQS (a local SQS-compatible server), INGEST_VISIBILITY_TIMEOUT_SECONDS,
INGEST_WAIT_SECONDS, INGEST_BACKOFF_MAX_MS; AWS credentials (standard chain; cancel's reads call
Partner Central: AWS_ENDPOINT_URL_PARTNERCENTRAL_ACCOUNT or PARTNERCENTRAL_ENDPOINT for the emulator).
SIGTERM/SIGINT: stop receiving, finish the batch in hand, exit within SHUTDOWN_GRACE_MS: 0 when it
finished, ${FORCED_EXIT_CODE} when it did not (its messages come back to another process).
Exit: 2 usage or invalid policy, 3 Redis unreachable.`;

const options = {
  "queue-url": { type: "string", description: "the SQS queue the EventBridge rule feeds", valueName: "URL" },
  policy: { type: "string", description: "the policy, JSON or YAML (default: hold all)", valueName: "FILE" },
} as const;

export const ingest = defineCommand({
  name: "ingest",
  summary: "act on Partner Central's EventBridge events from an SQS queue",
  options,
  details,
  run: ({ values }) => ingestCommand(values),
});

async function ingestCommand(values: OptionValues<typeof options>): Promise<number> {
  const queueUrl = values["queue-url"];
  if (!queueUrl) throw new UsageError("give --queue-url (the SQS queue the EventBridge rule feeds)");
  if (!URL.canParse(queueUrl) || !/^https?:$/.test(new URL(queueUrl).protocol))
    throw new UsageError(`--queue-url must be an http(s) URL, got ${JSON.stringify(queueUrl)}`);
  const policy = values.policy === undefined ? HOLD_ALL_POLICY : await readPolicy(values.policy);
  const signalled = firstSignal();
  const { config, logger } = await prepareRuntime("ingest", { writes: true });
  const running = startIngest(config, { queueUrl, policy, logger });
  const signal = await Promise.race([signalled, running.done.then(() => "loop ended" as const)]);
  const { drained } = await running.stop(signal);
  return drained ? 0 : FORCED_EXIT_CODE;
}
