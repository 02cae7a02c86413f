import { setTimeout as sleep } from "node:timers/promises";
import { createRequestReader } from "../../app/request-reader.js";
import { createRedis } from "../../store/redis/connection.js";
import { queueLocationFrom } from "../../store/queue-location.js";
import { durationArg, UsageError } from "../args.js";
import { defineCommand, type OptionValues } from "../define-command.js";
import { firstSignal, prepareRuntime } from "../runtime.js";
import { formatStatus } from "../status-table.js";

const details = `Usage:
  pc-invitations status [--json | --table]
  pc-invitations status --watch [--interval 2s] [--json | --table]

A table on a terminal, JSON when piped (or with --json; --table forces the table). Read-only.
--watch reads again every --interval (30s, 5m…; default 2s) until SIGINT/SIGTERM, then exits 0
within SHUTDOWN_GRACE_MS; piped, it prints one JSON report per line. A read that fails while
watching is shown and tried again at the next interval. Each figure: docs/operations.md.`;

/** The screen is cleared and redrawn at each refresh of --watch on a terminal. */
const CLEAR = "\x1b[H\x1b[2J";

const options = {
  watch: { type: "boolean", description: "read again every --interval until SIGINT/SIGTERM" },
  interval: { type: "string", description: "with --watch: how often (default 2s)", valueName: "DURATION" },
} as const;

export const status = defineCommand({
  name: "status",
  summary: "the backlog, the oldest waiting request, the rate, time to drain, workers, faults",
  options,
  details,
  output: { formats: ["json", "table", "ndjson"], tty: "table", piped: "json" },
  run: ({ values, output }) => statusCommand(values, output !== "table"),
});

async function statusCommand(values: OptionValues<typeof options>, json: boolean): Promise<number> {
  if (values.interval !== undefined && !values.watch) throw new UsageError("--interval goes with --watch");
  const intervalMs = durationArg(values.interval, "interval") ?? 2000;
  // Listening from the start: a SIGTERM while the first read waits on Redis stops the command too.
  const signalled = values.watch ? firstSignal() : undefined;
  const { config } = await prepareRuntime("status");
  const loc = queueLocationFrom(config);
  const redis = createRedis(config.REDIS_URL, { cluster: config.REDIS_CLUSTER });
  const reader = createRequestReader(config, redis);
  const render = (report: Awaited<ReturnType<typeof reader.status>>) =>
    json ? JSON.stringify(report) : formatStatus(report, `${loc.prefix} ${loc.requestsQueue}`);
  try {
    if (!signalled) {
      process.stdout.write(`${render(await reader.status())}\n`);
      return 0;
    }
    const stop = signalled.then(() => "stop" as const);
    for (;;) {
      const read = reader.status().then(
        (report) => ({ report }),
        (err: unknown) => ({ error: (err as Error)?.message ?? String(err) }),
      );
      const result = await Promise.race([read, stop]);
      if (result === "stop") return 0;
      if ("report" in result) process.stdout.write(`${json ? "" : CLEAR}${render(result.report)}\n`);
      else process.stderr.write(`pc-invitations status: ${result.error}; reading again in ${intervalMs} ms\n`);
      if ((await Promise.race([sleep(intervalMs, "next" as const, { ref: false }), stop])) === "stop") return 0;
    }
  } finally {
    await reader.close().catch(() => undefined);
    redis.disconnect();
  }
}
