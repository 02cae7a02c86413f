import { loadConfig } from "../../config/load-config.js";
import { readHeartbeat } from "../../observability/heartbeat.js";
import { intArg, UsageError } from "../args.js";
import { defineCommand, type OptionValues } from "../define-command.js";

const details = `Usage:
  pc-invitations healthcheck [--file F] [--max-age-seconds 30]

worker, serve and emulator rewrite HEALTH_FILE every 5 s while healthy. Exit 0: a fresh, healthy
beat; exit 1 with one line saying why: no file, a stale beat (hung or gone), or unhealthy (the
reason the process gave). Needs no Redis.`;

const options = {
  file: { type: "string", description: "the heartbeat file (default HEALTH_FILE)", valueName: "F" },
  "max-age-seconds": { type: "string", description: "a beat older than this is stale (default 30)", valueName: "N" },
} as const;

export const healthcheck = defineCommand({
  name: "healthcheck",
  summary: "exit 0 when the process writing HEALTH_FILE is healthy (Docker HEALTHCHECK)",
  options,
  details,
  run: ({ values }) => healthcheckCommand(values),
});

async function healthcheckCommand(values: OptionValues<typeof options>): Promise<number> {
  const file = values.file ?? loadConfig().HEALTH_FILE;
  if (!file) throw new UsageError("no heartbeat file: set HEALTH_FILE or pass --file");
  const maxAge = intArg(values["max-age-seconds"], "max-age-seconds", 1) ?? 30;
  const verdict = await readHeartbeat(file, maxAge * 1000);
  if (verdict.ok) {
    process.stdout.write(`healthy (pid ${verdict.beat.pid}, beat at ${verdict.beat.at})\n`);
    return 0;
  }
  process.stderr.write(`pc-invitations healthcheck: ${verdict.reason}\n`);
  return 1;
}
