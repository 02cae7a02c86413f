import { createRequestControl } from "../../app/request-control.js";
import { producerFromConfig } from "../../app/from-config.js";
import { createRedis } from "../../store/redis/connection.js";
import { assertCancelArguments } from "../../outcomes/cancel.js";
import { UsageError } from "../args.js";
import { defineCommand } from "../define-command.js";
import { prepareRuntime } from "../runtime.js";

const details = `Example:
  pc-invitations cancel AWS.pacinv-ABCDEFGHIJKLM.mihq0f2k9c1a2b [--reason TEXT] [--json]

A request whose job is waiting, delayed or prioritized is removed and ends with exactly one outcome
of type "canceled" (with --reason as its reason); its idempotency record completes with it, so a
re-submission gets that outcome back. Canceling it again prints the same outcome. A request that was
sent to AWS before (waiting for its retry) is canceled only if its invitation, read first (through
the shared limit), is still pending: if AWS applied it, it ends accepted (or rejected) instead, and
the cancel says so (exit 1). A request already running (active) or finished is refused with its state. An id
that cannot be a request id (<catalog>.<…>, no ":", at most 512 characters: never one of BullMQ's
own keys) and a --reason outside 1-256 characters are refused before Redis is asked anything.
Prints the outcome (--json: the outcome event as JSON).
Exit: 0 canceled, 1 refused (running or finished) or unknown, 2 usage (a malformed id or --reason too),
3 Redis unreachable, 4 Redis full.`;

export const cancel = defineCommand({
  name: "cancel",
  summary: "cancel a request that has not started",
  args: ["[requestId]"],
  options: {
    reason: { type: "string", description: "the canceled outcome's reason (1-256 characters)", valueName: "TEXT" },
  },
  details,
  output: { formats: ["json", "table"], tty: "table", piped: "table" },
  run: ({ values, positionals, output }) => cancelCommand(positionals[0], values.reason, output === "json"),
});

async function cancelCommand(
  requestId: string | undefined,
  reason: string | undefined,
  json: boolean,
): Promise<number> {
  if (!requestId) throw new UsageError("give the request id (the jobId enqueue printed)");
  const values = { reason, json };
  const options = values.reason !== undefined ? { reason: values.reason } : {};
  // The library's rules, before Redis is reached: a malformed id or reason is exit 2 in one line.
  assertCancelArguments(requestId, options);
  const { config } = await prepareRuntime("cancel", { writes: true });
  const redis = createRedis(config.REDIS_URL, { cluster: config.REDIS_CLUSTER });
  const producer = producerFromConfig(config, redis);
  const control = createRequestControl(config, redis, producer);
  try {
    const outcome = await control.cancel(requestId, options);
    const sent =
      outcome.attempts > 0
        ? `it had been sent to AWS ${outcome.attempts} time(s); its invitation, read first, was still pending`
        : "nothing was sent to AWS for it";
    process.stdout.write(
      values.json
        ? `${JSON.stringify(outcome)}\n`
        : `canceled ${outcome.requestId} (${outcome.catalog ?? "?"} ${outcome.identifier ?? "?"}); ${sent}\n`,
    );
    return 0;
  } finally {
    await control.close();
    await producer.close();
    await redis.quit().catch(() => redis.disconnect());
  }
}
