import { runEmulatorCli } from "../../emulator/index.js";
import { loadConfig } from "../../config/load-config.js";
import { startHeartbeat } from "../../observability/heartbeat.js";
import { intArg, UsageError } from "../args.js";
import { defineCommand, type OptionValues } from "../define-command.js";
import { firstSignal, setShutdownGrace } from "../runtime.js";

const details = `Usage:
  pc-invitations emulator [--port 4566] [--host 127.0.0.1] [--seed N] [--throttle-above-rps N]
                          [--error-rate 0.05] [--latency-ms 20] [--switches JSON]

Point workers at it with PARTNERCENTRAL_ENDPOINT=http://HOST:PORT and any static
AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY. Control plane (seed, calls, faults): /_emulator/*.
--seed N creates N PENDING invitations in catalog AWS and prints their ids as NDJSON requests.
--switches answers as AWS may (docs/emulator.md), e.g.
'{"omitOutputFields":{"GetConnectionInvitation":["ConnectionId"]}}' or '{"hang":["AcceptConnectionInvitation"]}'; also settable later with POST /_emulator/switches.
--events-queue-url sends Partner Central's events (Received, Accepted, Rejected, Cancelled, Expired) to
an SQS queue as its invitations change, for pc-invitations ingest (docs/events.md).`;

const options = {
  port: { type: "string", description: "listen on this port (default 4566)", valueName: "PORT" },
  host: { type: "string", description: "listen on this address (default 127.0.0.1)", valueName: "HOST" },
  seed: {
    type: "string",
    description: "create N PENDING invitations and print them as NDJSON requests",
    valueName: "N",
  },
  "throttle-above-rps": { type: "string", description: "answer ThrottlingException above N calls/s", valueName: "N" },
  "error-rate": { type: "string", description: "this share of calls fail (0 to 1)", valueName: "R" },
  "latency-ms": { type: "string", description: "added to every answer", valueName: "MS" },
  switches: { type: "string", description: "answer as AWS may (docs/emulator.md)", valueName: "JSON" },
  "events-queue-url": {
    type: "string",
    description: "send Partner Central's events to this SQS queue (a local SQS-compatible server; docs/events.md)",
    valueName: "URL",
  },
} as const;

export const emulator = defineCommand({
  name: "emulator",
  summary: "a local Partner Central Account API (awsJson1_0) for trials and tests",
  options,
  details,
  run: ({ values }) => emulatorCommand(values),
});

async function emulatorCommand(values: OptionValues<typeof options>): Promise<number> {
  const errorRate = values["error-rate"] === undefined ? undefined : Number(values["error-rate"]);
  if (errorRate !== undefined && !(errorRate >= 0 && errorRate <= 1))
    throw new UsageError("--error-rate must be between 0 and 1");
  const throttle = intArg(values["throttle-above-rps"], "throttle-above-rps", 1);
  const latency = intArg(values["latency-ms"], "latency-ms", 0);
  // Signal handlers first: a SIGTERM that arrives right after "listening" must still stop it cleanly.
  const stopped = firstSignal();
  let switches: Record<string, unknown> = {};
  if (values.switches !== undefined) {
    try {
      switches = JSON.parse(values.switches) as Record<string, unknown>;
    } catch {
      throw new UsageError(`--switches must be a JSON object, e.g. '{"hang":["AcceptConnectionInvitation"]}'`);
    }
    if (switches === null || typeof switches !== "object" || Array.isArray(switches))
      throw new UsageError("--switches must be a JSON object");
  }
  // Switches are start options: they hold from the first request on. An invalid one is refused.
  let emu: Awaited<ReturnType<typeof runEmulatorCli>>;
  try {
    emu = await runEmulatorCli({
      ...switches,
      port: intArg(values.port, "port", 0) ?? 4566,
      host: values.host ?? "127.0.0.1",
      ...(throttle !== undefined ? { throttleAboveRps: throttle } : {}),
      ...(errorRate !== undefined ? { errorRate } : {}),
      ...(latency !== undefined ? { latencyMs: latency } : {}),
      ...(values["events-queue-url"] !== undefined ? { eventsQueueUrl: values["events-queue-url"] } : {}),
      log: (line) => process.stderr.write(`${line}\n`),
    });
  } catch (err) {
    // The emulator refuses an unknown or malformed switch before it listens.
    if (values.switches !== undefined && err instanceof Error && !("code" in err))
      throw new UsageError(`--switches: ${err.message}`);
    throw err;
  }
  const seed = intArg(values.seed, "seed", 1);
  if (seed)
    for (const inv of emu.seedInvitations(seed))
      process.stdout.write(`${JSON.stringify({ catalog: inv.catalog, identifier: inv.identifier })}\n`);
  const config = loadConfig();
  setShutdownGrace(config.SHUTDOWN_GRACE_MS);
  const healthFile = config.HEALTH_FILE;
  const heartbeat = healthFile ? startHeartbeat({ file: healthFile, check: () => ({ healthy: true }) }) : undefined;
  await stopped;
  await heartbeat?.stop("shutting down");
  await emu.close();
  return 0;
}
