import { createRequestControl } from "../../app/request-control.js";
import { producerFromConfig } from "../../app/from-config.js";
import { createRedis } from "../../store/redis/connection.js";
import { assertCancelArguments } from "../../outcomes/cancel.js";
import { parse, UsageError } from "../args.js";
import { prepareRuntime } from "../runtime.js";

export const cancelHelp = `pc-invitations cancel REQUEST_ID: cancel a request that has not started

  pc-invitations cancel AWS.pacinv-ABCDEFGHIJKLM.mihq0f2k9c1a2b [--reason TEXT] [--json]

A request whose job is waiting, delayed or prioritized is removed and ends with exactly one outcome
of type "canceled" (with --reason as its reason); its idempotency record completes with it, so a
re-submission gets that outcome back. Nothing is sent to AWS for it. Canceling it again prints the
same outcome. A request already running (active) or finished is refused with its state. An id
that cannot be a request id (<catalog>.<…>, no ":", at most 512 characters: never one of BullMQ's
own keys) and a --reason outside 1-256 characters are refused before Redis is asked anything.
Prints the outcome (--json: the outcome event as JSON).
Exit: 0 canceled, 1 refused (running or finished) or unknown, 2 usage (a malformed id or --reason too),
3 Redis unreachable, 4 Redis full.`;

export async function cancelCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { reason: { type: "string" }, json: { type: "boolean" } }, true);
  const [requestId, extra] = positionals;
  if (!requestId) throw new UsageError("give the request id (the jobId enqueue printed)");
  if (extra !== undefined) throw new UsageError(`unexpected argument "${extra}"`);
  const options = values.reason !== undefined ? { reason: values.reason } : {};
  // The library's rules, before Redis is reached: a malformed id or reason is exit 2 in one line.
  assertCancelArguments(requestId, options);
  const { config } = await prepareRuntime("cancel", { writes: true });
  const redis = createRedis(config.REDIS_URL, { cluster: config.REDIS_CLUSTER });
  const producer = producerFromConfig(config, redis);
  const control = createRequestControl(config, redis, producer);
  try {
    const outcome = await control.cancel(requestId, options);
    process.stdout.write(
      values.json
        ? `${JSON.stringify(outcome)}\n`
        : `canceled ${outcome.requestId} (${outcome.catalog ?? "?"} ${outcome.identifier ?? "?"}); nothing was sent to AWS for it\n`,
    );
    return 0;
  } finally {
    await control.close();
    await producer.close();
    await redis.quit().catch(() => redis.disconnect());
  }
}
