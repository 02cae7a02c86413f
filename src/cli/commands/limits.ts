import { createRedis } from "../../store/redis/connection.js";
import { rateLimiterFromConfig } from "../../app/from-config.js";
import { limitKeyIssue } from "../../schemas/limit-key.js";
import type { LimitSettings } from "../../ratelimit/shared-rate-limiter.js";
import { LIMIT_SETTING_RULES, limitSettingsIssues } from "../../ratelimit/limit-settings.js";
import { UsageError } from "../args.js";
import { defineCommand, type OptionValues } from "../define-command.js";
import { prepareRuntime } from "../runtime.js";

const details = `Usage:
  pc-invitations limits show [--key K]
  pc-invitations limits set [--rate 10] [--burst 10] [--min-rate 1] [--retry-ratio 0.1]
                            [--retry-min-per-minute 10] [--key K]

show: current rate, ceiling, burst, throttles, retry budget left (writes nothing).
set:  takes effect at once for every worker; --rate is the new ceiling and the new current
      rate. Limits live in Redis under QUEUE_PREFIX; --key defaults to RATE_LIMIT_KEY.
See docs/rate-limits.md.`;

/** Each setting and its flag. */
const FLAGS: ReadonlyArray<[keyof LimitSettings, string]> = [
  ["rate", "rate"],
  ["burst", "burst"],
  ["minRate", "min-rate"],
  ["retryRatio", "retry-ratio"],
  ["retryMinPerMinute", "retry-min-per-minute"],
];

const options = {
  key: { type: "string", description: "the limit's key (default RATE_LIMIT_KEY)", valueName: "K" },
  rate: { type: "string", description: "set: the new ceiling and current rate, calls/s", valueName: "N" },
  burst: { type: "string", description: "set: calls allowed at once", valueName: "N" },
  "min-rate": { type: "string", description: "set: the floor the adaptive rate never goes below", valueName: "N" },
  "retry-ratio": { type: "string", description: "set: retries allowed per first attempt", valueName: "R" },
  "retry-min-per-minute": {
    type: "string",
    description: "set: retries allowed per minute whatever the ratio",
    valueName: "N",
  },
} as const;

export const limits = defineCommand({
  name: "limits",
  summary: "show or change the shared adaptive rate limit (JSON on stdout)",
  args: ["[action]"],
  options,
  details,
  output: { formats: ["json"], tty: "json", piped: "json" },
  run: ({ values, positionals }) => limitsCommand(positionals[0], values),
});

async function limitsCommand(action: string | undefined, values: OptionValues<typeof options>): Promise<number> {
  if (action !== "show" && action !== "set")
    throw new UsageError(action ? `unknown action "${action}" (show or set)` : "say show or set");

  // The rules are the library's (limitSettingsIssues); the CLI only turns text into numbers.
  const changes: Partial<LimitSettings> = {};
  for (const [field, flag] of FLAGS) {
    const raw = (values as Record<string, string | undefined>)[flag];
    if (raw === undefined) continue;
    // Plain decimal notation only: Number() would also take "0x10", "1e3" or "" as numbers. The
    // message gives the setting's rule (its bounds) too: "1e9" is refused for its notation, but
    // the one who typed it needs the bound as much ("must be a decimal number" hid it).
    if (!/^\s*\d+(\.\d+)?\s*$/.test(raw))
      throw new UsageError(
        `--${flag} ${LIMIT_SETTING_RULES[field]}, written in plain ` +
          `decimal digits (no exponent, sign or hex), got "${raw}"`,
      );
    changes[field] = Number(raw);
    const [issue] = limitSettingsIssues({ [field]: changes[field] });
    if (issue) throw new UsageError(`--${flag} ${issue.slice(issue.indexOf(":") + 2)}, got "${raw}"`);
  }
  const [pairIssue] = limitSettingsIssues(changes);
  if (pairIssue) throw new UsageError(flagged(pairIssue));
  if (action === "show" && Object.keys(changes).length > 0) throw new UsageError("show takes only --key");
  if (action === "set" && Object.keys(changes).length === 0)
    throw new UsageError(
      "set needs at least one of --rate, --burst, --min-rate, --retry-ratio, --retry-min-per-minute",
    );

  const keyIssue = values.key === undefined ? undefined : limitKeyIssue(values.key);
  if (keyIssue) throw new UsageError(`--key ${keyIssue}, got ${JSON.stringify(values.key)}`);

  const { config } = await prepareRuntime("limits", { writes: action === "set" });
  const limitKey = values.key ?? config.RATE_LIMIT_KEY;
  const redis = createRedis(config.REDIS_URL, { cluster: config.REDIS_CLUSTER });
  try {
    const limiter = rateLimiterFromConfig(config, redis);
    if (action === "set") {
      // Cross-field rules (floor ≤ ceiling) against what is in force for the fields not given.
      const current = await limiter.getState(limitKey);
      const [issue] = limitSettingsIssues(changes, { rate: current.ceiling, minRate: current.minRate });
      if (issue) throw new UsageError(flagged(issue));
    }
    const state = action === "show" ? await limiter.getState(limitKey) : await limiter.setLimits(limitKey, changes);
    process.stdout.write(`${JSON.stringify(state, null, 2)}\n`);
    return 0;
  } finally {
    await redis.quit().catch(() => redis.disconnect());
  }
}

/** `minRate: must be ≤ rate (5 calls/s)` → `--min-rate must be ≤ rate (5 calls/s)` */
function flagged(issue: string): string {
  return issue.replace(/^(\w+):/, (_, field: string) => `--${FLAGS.find(([k]) => k === field)?.[1] ?? field}`);
}
