import { consumeOutcomes } from "../../outcomes/consume.js";
import { queueLocationFrom } from "../../queues/queue-names.js";
import { createRedis } from "../../queues/connection.js";
import { prepareRuntime } from "../runtime.js";
import { parse } from "../args.js";

export const outcomesHelp = `pc-invitations outcomes: print outcome events as NDJSON on stdout, acknowledging each

  pc-invitations outcomes --drain     print what is there, then exit (one-shot)
  pc-invitations outcomes --follow    keep printing new events until SIGINT/SIGTERM (default)

Each event is acknowledged once written; this consumes them (other consumers of the outcomes
queue will not see them).`;

export async function outcomesCommand(argv: string[]): Promise<number> {
  const { values } = parse(argv, { drain: { type: "boolean" }, follow: { type: "boolean" } });
  const { config } = await prepareRuntime("outcomes", { writes: true });
  const loc = queueLocationFrom(config);
  const redis = createRedis(config.REDIS_URL, { cluster: config.REDIS_CLUSTER });
  const consumer = consumeOutcomes(
    (event) =>
      new Promise<void>((resolve, reject) => {
        process.stdout.write(JSON.stringify(event) + "\n", (err) => (err ? reject(err) : resolve()));
      }),
    { redis, prefix: loc.prefix, queueName: loc.outcomesQueue, drain: values.drain === true },
  );
  const stop = () => void consumer.close();
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
  await consumer.done;
  redis.disconnect();
  return 0;
}
