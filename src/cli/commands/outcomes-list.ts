import { outcomeLogFromConfig } from "../../app/deliver.js";
import { DURATION_RULE, parseDuration } from "../../schemas/duration.js";
import { createRedis } from "../../store/redis/connection.js";
import { prepareRuntime } from "../runtime.js";
import { intArg, UsageError } from "../args.js";
import { defineCommand } from "../define-command.js";

/** `outcomes list`: the outcome log read without consuming (docs/outcome-stream.md). */
export const outcomesList = defineCommand({
  name: "list",
  summary: "list outcome events and notices of the outcome log without consuming anything",
  options: {
    since: { type: "string", description: "logged in the last D (30m, 2h, 1d; default: all kept)", valueName: "D" },
    type: { type: "string", multiple: true, description: "only this type (repeatable)", valueName: "T" },
    catalog: { type: "string", description: "only this catalog", valueName: "C" },
    limit: { type: "string", description: "at most N events (default 1000)", valueName: "N" },
  },
  details: "Acknowledges nothing: consumers of the outcomes queue still get every event.",
  output: { formats: ["ndjson", "json", "table"], tty: "table", piped: "ndjson" },
  run: async ({ values, output }) => {
    let after = "0";
    if (values.since !== undefined) {
      const ms = parseDuration(String(values.since));
      if (ms === undefined) throw new UsageError(`--since ${DURATION_RULE}, got "${values.since}"`);
      after = `${Math.max(0, Date.now() - ms - 1)}-18446744073709551615`;
    }
    const limit = intArg(values.limit as string | undefined, "limit", 1) ?? 1000;
    const types = (values.type as string[] | undefined) ?? [];
    const { config } = await prepareRuntime("outcomes");
    const redis = createRedis(config.REDIS_URL, { cluster: config.REDIS_CLUSTER });
    const log = outcomeLogFromConfig(config, redis);
    try {
      const page = await log.readEvents(
        after,
        limit,
        {
          types,
          ...(values.catalog ? { catalog: String(values.catalog) } : {}),
        },
        Math.max(limit * 10, 10_000),
      );
      const events = page.events.map((e) => e.event);
      if (output === "json") process.stdout.write(`${JSON.stringify({ events, next: page.next }, null, 2)}\n`);
      else if (output === "ndjson") for (const e of events) process.stdout.write(`${JSON.stringify(e)}\n`);
      else {
        for (const e of page.events) {
          const ev = e.event;
          const when = new Date(Number(e.cursor.split("-")[0])).toISOString();
          process.stdout.write(
            `${when}  ${ev.type.padEnd(20)}  ${ev.catalog ?? ""}.${ev.identifier ?? ""}  ${ev.eventId}\n`,
          );
        }
        process.stdout.write(`${page.events.length} event(s); next cursor ${page.next}\n`);
      }
      return 0;
    } finally {
      await log.close();
      redis.disconnect();
    }
  },
});
