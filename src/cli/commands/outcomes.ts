import { parseArgs } from "node:util";
import { consumeOutcomes } from "../../outcomes/consume.js";
import { listParkedOutcomes, replayParkedOutcomes, type ParkedLocation } from "../../store/redis/parked.js";
import { queueLocationFrom } from "../../store/queue-location.js";
import { createRedis } from "../../store/redis/connection.js";
import { firstSignal, prepareRuntime, stdoutClosed } from "../runtime.js";
import { intArg, parse, UsageError } from "../args.js";

export const outcomesHelp = `pc-invitations outcomes: print outcome events as NDJSON on stdout, acknowledging each; list and replay parked ones

  pc-invitations outcomes --drain     print what is there, then exit (one-shot)
  pc-invitations outcomes --follow    keep printing new events until SIGINT/SIGTERM (default)
      --max-attempts N          park an event after N failed writes (default: never)
      --max-stalled-count N     park an event after this process died N+1 times while
                                writing it (default: practically never)
  pc-invitations outcomes --parked [--json]
                                      list parked events: those a consumer gave up on
  pc-invitations outcomes replay (--all | --id REQUEST_ID ...) [--dry-run] [--json]
                                      deliver parked events again (fresh retry budget)

Each event is acknowledged once written; this consumes them (other consumers of the outcomes
queue will not see them). Delivery is at-least-once: an event whose consumer died before
acknowledging it is delivered again (same eventId). replay exits 1 when an --id is not parked.`;

export async function outcomesCommand(argv: string[]): Promise<number> {
  if (argv[0] === "replay") return replayCommand(argv.slice(1));
  const { values } = parse(argv, {
    drain: { type: "boolean" },
    follow: { type: "boolean" },
    parked: { type: "boolean" },
    json: { type: "boolean" },
    "max-attempts": { type: "string" },
    "max-stalled-count": { type: "string" },
  });
  if (values.parked) {
    if (values.drain || values.follow)
      throw new UsageError("--parked lists parked events; it does not combine with --drain or --follow");
    return withLocation(false, (location) => listCommand(location, values.json === true));
  }
  if (values.json) throw new UsageError("--json goes with --parked or replay (events are always NDJSON)");
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

async function replayCommand(argv: string[]): Promise<number> {
  let values: { all?: boolean; id?: string[]; "dry-run"?: boolean; json?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        all: { type: "boolean" },
        id: { type: "string", multiple: true },
        "dry-run": { type: "boolean" },
        json: { type: "boolean" },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const ids = values.id ?? [];
  if (values.all && ids.length > 0) throw new UsageError("replay: give --all or --id, not both");
  if (!values.all && ids.length === 0)
    throw new UsageError("replay: say which events: --all, or --id REQUEST_ID (repeatable)");
  const dryRun = values["dry-run"] === true;
  return withLocation(!dryRun, async (location) => {
    const result = await replayParkedOutcomes(location, { ...(values.all ? {} : { ids }), dryRun });
    if (values.json) process.stdout.write(`${JSON.stringify(result)}\n`);
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
