import { producerFromConfig } from "../../app/from-config.js";
import { createRequestControl } from "../../app/request-control.js";
import type { RedriveSummary } from "../../producer/redrive.js";
import { createRedis } from "../../store/redis/connection.js";
import { durationArg, intArg, UsageError } from "../args.js";
import { CONFIRM_ABOVE, confirmChange } from "../confirm.js";
import { createCounter } from "../progress.js";
import { defineCommand, type OptionValues } from "../define-command.js";
import { prepareRuntime } from "../runtime.js";

const details = `Usage:
  pc-invitations redrive [--error NAME]... [--since DURATION] [--dry-run] [--json]
                         [--limit N] [--yes]

  --error NAME      only failures with this error.name (repeat for several), e.g. AccessDeniedException
  --since 1d        only failures that ended within this duration (a whole number and ms, s, m, h or d)
  --dry-run         list what would be redriven, change nothing
  --limit N         at most N failures, the oldest first (run again for the next ones)
  --yes, -y         more than ${CONFIRM_ABOVE} to redrive: asked on a terminal, refused without --yes otherwise (exit 2)

Each failed request is enqueued again as a new request (new request id, redriveOf = the failed
one; same catalog, identifier, action, reason, metadata, correlationId) with idempotency key
redrive:<request id> and a new ClientToken: redriving twice redrives once. Before calling the API,
its run reads the invitation: already ACCEPTED (REJECTED for a reject) ends as that outcome without
a call; PENDING makes a new attempt; any other status fails with invitationStatus.
Prints one line per failed request, then a summary (found, redriven, duplicates, conflicts, skipped).
Exit: 0 done, 1 some redrive conflicted or not confirmed, 2 usage (or more than ${CONFIRM_ABOVE} without --yes off a terminal), 3 Redis unreachable, 4 Redis full.`;

const options = {
  error: {
    type: "string",
    multiple: true,
    description: "only failures with this error.name (repeatable)",
    valueName: "NAME",
  },
  since: {
    type: "string",
    description: "only failures that ended within this duration (1d, 5m…)",
    valueName: "DURATION",
  },
  "dry-run": { type: "boolean", description: "list what would be redriven, change nothing" },
  limit: { type: "string", description: "at most N failures, the oldest first", valueName: "N" },
  yes: {
    type: "boolean",
    short: "y",
    description: `go ahead without asking when more than ${CONFIRM_ABOVE} would be redriven`,
  },
} as const;

export const redrive = defineCommand({
  name: "redrive",
  summary: "run again the requests whose outcome was failed",
  options,
  details,
  output: { formats: ["json", "table"], tty: "table", piped: "table" },
  run: ({ values, output }) => redriveCommand(values, output === "json"),
});

async function redriveCommand(values: OptionValues<typeof options>, json: boolean): Promise<number> {
  const sinceMs = durationArg(values.since, "since");
  const errorNames = values.error ?? [];
  for (const name of errorNames)
    if (!/^[A-Za-z0-9_.:-]{1,128}$/.test(name))
      throw new UsageError(`--error must be an error name such as AccessDeniedException, got ${JSON.stringify(name)}`);
  const dryRun = values["dry-run"] === true;
  const limit = intArg(values.limit, "limit", 1);

  const { config } = await prepareRuntime("redrive", { writes: !dryRun });
  const redis = createRedis(config.REDIS_URL, { cluster: config.REDIS_CLUSTER });
  const producer = producerFromConfig(config, redis);
  const control = createRequestControl(config, redis, producer);
  try {
    const filter = {
      errorNames,
      ...(sinceMs !== undefined ? { sinceMs } : {}),
      ...(limit !== undefined ? { limit } : {}),
    };
    if (!dryRun && values.yes !== true) {
      // How many it would redrive (a preview, nothing written): more than CONFIRM_ABOVE asks first.
      const preview = await control.redrive({ ...filter, dryRun: true });
      await confirmChange(`redrive ${preview.redriven} failed request(s)`, preview.redriven, false);
    }
    const progress = createCounter(dryRun ? "redrive (dry run)" : "redrive");
    const summary = await control.redrive({ ...filter, dryRun, onProgress: progress.update }).finally(progress.finish);
    process.stdout.write(json ? `${JSON.stringify(summary)}\n` : formatRedrive(summary));
    return summary.conflicts > 0 ? 1 : 0;
  } finally {
    await control.close();
    await producer.close();
    await redis.quit().catch(() => redis.disconnect());
  }
}

/** The summary for people: one line of counts, then one line per failed request. */
export function formatRedrive(s: RedriveSummary): string {
  const verb = s.dryRun ? "would redrive" : "redrove";
  const filter = [
    s.errorNames.length > 0 ? `errors ${s.errorNames.join(", ")}` : "any error",
    s.since ? `since ${s.since}` : "any time",
  ].join(", ");
  const lines: string[] = [];
  for (const r of s.requests) {
    const what =
      r.result === "redriven"
        ? `${verb}${r.jobId ? ` as ${r.jobId}` : ""}`
        : r.result === "duplicate"
          ? `already redriven as ${r.jobId}`
          : `${r.result}: ${r.detail}`;
    lines.push(`${r.requestId} (${r.action ?? "?"}, ${r.error} at ${r.failedAt}): ${what}`);
  }
  // The summary last, where it does not scroll away.
  const limited = s.limit !== undefined && s.found > s.limit ? ` (the oldest ${s.limit}: --limit)` : "";
  lines.push(
    `${s.dryRun ? "dry run, nothing enqueued: " : ""}found ${s.found} failed request(s) (${filter}); ${verb} ${s.redriven}${limited}; ` +
      `${s.duplicates} already redriven; ${s.conflicts} conflict(s); ${s.skipped} skipped`,
  );
  return `${lines.join("\n")}\n`;
}
