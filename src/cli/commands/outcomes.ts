import { consumeOutcomes } from "../../outcomes/consume.js";
import { listParkedOutcomes, replayParkedOutcomes, type ParkedLocation } from "../../store/redis/parked.js";
import { queueLocationFrom } from "../../store/queue-location.js";
import { shutdownPlan } from "../../app/shutdown-plan.js";
import { createRedis } from "../../store/redis/connection.js";
import { firstSignal, prepareRuntime, stdoutClosed } from "../runtime.js";
import { intArg, UsageError } from "../args.js";
import { defineCommand, type OptionValues } from "../define-command.js";
import { outcomesList } from "./outcomes-list.js";

const details = `Usage:
  pc-invitations outcomes --drain     print what is there, then exit (one-shot)
  pc-invitations outcomes --follow    keep printing new events until SIGINT/SIGTERM (default): then
                                      exit 0 within SHUTDOWN_GRACE_MS whatever Redis does (6 if
                                      closing did not finish by then; an event being written is
                                      delivered again later)
      --max-attempts N          park an event after N failed writes (default: never)
      --max-stalled-count N     park an event after this process died N+1 times while
                                writing it (default: practically never)
  pc-invitations outcomes --parked [--output json|table]
                                      list parked events: those a consumer gave up on
  pc-invitations outcomes replay (--all | --id REQUEST_ID ...) [--dry-run] [--json]
                                      deliver parked events again (fresh retry budget)

Each event is acknowledged once written; this consumes them (other consumers of the outcomes
queue will not see them). Delivery is at-least-once: an event whose consumer died before
acknowledging it is delivered again (same eventId). replay exits 1 when an --id is not parked.`;

const options = {
  drain: { type: "boolean", description: "print what is there, then exit" },
  follow: { type: "boolean", description: "keep printing new events until SIGINT/SIGTERM (the default)" },
  parked: { type: "boolean", description: "list parked events (those a consumer gave up on)" },
  "max-attempts": { type: "string", description: "park an event after N failed writes", valueName: "N" },
  "max-stalled-count": { type: "string", description: "park an event after N+1 lost consumers", valueName: "N" },
} as const;

const replayOptions = {
  all: { type: "boolean", description: "every parked event" },
  id: { type: "string", multiple: true, description: "this parked event (repeatable)", valueName: "REQUEST_ID" },
  "dry-run": { type: "boolean", description: "say what would be replayed, change nothing" },
} as const;

const replay = defineCommand({
  name: "replay",
  summary: "deliver parked outcome events again (fresh retry budget)",
  options: replayOptions,
  details: "Exit: 0 replayed, 1 some --id was not parked, 2 usage.",
  output: { formats: ["json", "table"], tty: "table", piped: "table" },
  run: ({ values, output }) => replayCommand(values, output === "json"),
});

export const outcomes = defineCommand({
  name: "outcomes",
  summary: "print outcome events as NDJSON on stdout, acknowledging each; list and replay parked ones",
  options,
  details,
  subcommands: [replay, outcomesList],
  output: { formats: ["ndjson", "json", "table"], tty: "ndjson", piped: "ndjson" },
  run: ({ values, output }) => outcomesCommand(values, output),
});

async function outcomesCommand(values: OptionValues<typeof options>, output: string): Promise<number> {
  if (values.parked) {
    if (values.drain || values.follow)
      throw new UsageError("--parked lists parked events; it does not combine with --drain or --follow");
    return withLocation(false, (location) => listCommand(location, output === "json"));
  }
  if (output !== "ndjson")
    throw new UsageError(`--output ${output} goes with --parked or replay (events are always NDJSON)`);
  const maxAttempts = intArg(values["max-attempts"], "max-attempts", 1);
  const maxStalledCount = intArg(values["max-stalled-count"], "max-stalled-count", 0);
  const signalled = firstSignal();
  const { config, logger } = await prepareRuntime("outcomes", { writes: true });
  const loc = queueLocationFrom(config);
  const redis = createRedis(config.REDIS_URL, { cluster: config.REDIS_CLUSTER });
  const consumer = consumeOutcomes(
    (event) =>
      new Promise<void>((resolve, reject) => {
        process.stdout.write(`${JSON.stringify(event)}\n`, (err) => (err ? reject(err) : resolve()));
      }),
    {
      redis,
      prefix: loc.prefix,
      queueName: loc.outcomesQueue,
      drain: values.drain === true,
      logger,
      // Within the grace period whatever Redis does; an event still being written is delivered again.
      closeTimeoutMs: shutdownPlan(config.SHUTDOWN_GRACE_MS).closeByMs,
      ...(maxAttempts !== undefined ? { maxAttempts } : {}),
      ...(maxStalledCount !== undefined ? { maxStalledCount } : {}),
    },
  );
  // The ready line a supervisor (or a test) can wait for; the signal handler is already in place.
  // Not logged once the consumer is stopping (a signal, or a drain that ended first).
  let stopping = false;
  void consumer.done.then(() => (stopping = true));
  void consumer.ready.then(() => {
    if (!stopping) logger.info({ queue: loc.outcomesQueue, drain: values.drain === true }, "consuming outcome events");
  });
  // A signal, or the reader gone (EPIPE): stop. An event whose line could not be written was not
  // handled (its write failed, so did the handler) and is delivered again later, to whoever reads.
  void Promise.race([signalled, stdoutClosed()]).then(() => {
    stopping = true;
    return consumer.close();
  });
  await consumer.done;
  redis.disconnect();
  return 0;
}

async function listCommand(location: ParkedLocation, json: boolean): Promise<number> {
  const parked = await listParkedOutcomes(location);
  if (json) {
    process.stdout.write(`${JSON.stringify({ count: parked.length, parked })}\n`);
    return 0;
  }
  const lines = parked.map(
    (p) =>
      `${p.requestId}  ${p.type ?? "(not an outcome)"}  parked ${p.parkedAt ?? "?"}  ` +
      `handler failures ${p.handlerFailures}, lost consumers ${p.lostConsumers}: ${p.reason}`,
  );
  lines.push(
    `${parked.length} parked outcome event(s)${parked.length > 0 ? "; deliver them again with: pc-invitations outcomes replay --all" : ""}`,
  );
  process.stdout.write(`${lines.join("\n")}\n`);
  return 0;
}

async function replayCommand(values: OptionValues<typeof replayOptions>, json: boolean): Promise<number> {
  const ids = values.id ?? [];
  if (values.all && ids.length > 0) throw new UsageError("replay: give --all or --id, not both");
  if (!values.all && ids.length === 0)
    throw new UsageError("replay: say which events: --all, or --id REQUEST_ID (repeatable)");
  const dryRun = values["dry-run"] === true;
  return withLocation(!dryRun, async (location) => {
    const result = await replayParkedOutcomes(location, { ...(values.all ? {} : { ids }), dryRun });
    if (json) process.stdout.write(`${JSON.stringify(result)}\n`);
    else {
      const verb = dryRun ? "would replay" : "replayed";
      const lines = [
        ...result.replayed.map((id) => `${verb} ${id}`),
        ...result.notParked.map((n) => `not parked: ${n.requestId} (${n.state})`),
        `${verb} ${result.replayed.length} parked outcome event(s)${result.notParked.length ? `; ${result.notParked.length} not parked` : ""}`,
      ];
      process.stdout.write(`${lines.join("\n")}\n`);
    }
    return result.notParked.length > 0 ? 1 : 0;
  });
}

/** `writes`: a full Redis stops the command at once (exit 4) instead of failing half-way. */
async function withLocation(writes: boolean, fn: (location: ParkedLocation) => Promise<number>): Promise<number> {
  const { config } = await prepareRuntime("outcomes", { writes });
  const loc = queueLocationFrom(config);
  const redis = createRedis(config.REDIS_URL, { cluster: config.REDIS_CLUSTER });
  try {
    return await fn({ redis, prefix: loc.prefix, queueName: loc.outcomesQueue });
  } finally {
    redis.disconnect();
  }
}
