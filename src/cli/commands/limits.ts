import { createRedis } from "../../queues/connection.js";
import { rateLimiterFromConfig } from "../../app/from-config.js";
import { limitKeyIssue } from "../../schemas/limit-key.js";
import type { LimitSettings } from "../../ratelimit/shared-rate-limiter.js";
import { parse, UsageError } from "../args.js";
import { prepareRuntime } from "../runtime.js";

export const limitsHelp = `pc-invitations limits: show or change the shared adaptive rate limit (JSON on stdout)

  pc-invitations limits show [--key K]
  pc-invitations limits set [--rate 10] [--burst 10] [--min-rate 1] [--retry-ratio 0.1]
                            [--retry-min-per-minute 10] [--key K]

show: current rate, ceiling, burst, throttles, retry budget left (writes nothing).
set:  takes effect at once for every worker; --rate is the new ceiling and the new current
      rate. Limits live in Redis under QUEUE_PREFIX; --key defaults to RATE_LIMIT_KEY.
See docs/rate-limits.md.`;

export async function limitsCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(
    argv,
    {
      key: { type: "string" },
      rate: { type: "string" },
      burst: { type: "string" },
      "min-rate": { type: "string" },
      "retry-ratio": { type: "string" },
      "retry-min-per-minute": { type: "string" },
    },
    true,
  );
  const [action, extra] = positionals;
  if (action !== "show" && action !== "set") throw new UsageError(action ? `unknown action "${action}" (show or set)` : "say show or set");
  if (extra !== undefined) throw new UsageError(`unexpected argument "${extra}"`);

  const changes: Partial<LimitSettings> = {};
  const put = (field: keyof LimitSettings, flag: string, ok: (n: number) => boolean, rule: string) => {
    const raw = (values as Record<string, string | undefined>)[flag];
    if (raw === undefined) return;
    const n = Number(raw);
    if (raw.trim() === "" || !Number.isFinite(n) || !ok(n)) throw new UsageError(`--${flag} ${rule}, got "${raw}"`);
    changes[field] = n;
  };
  put("rate", "rate", (n) => n > 0 && n <= 1_000_000, "must be a number > 0 (calls/s)");
  put("burst", "burst", (n) => Number.isInteger(n) && n >= 1 && n <= 1_000_000, "must be a whole number ≥ 1");
  put("minRate", "min-rate", (n) => n > 0 && n <= 1_000_000, "must be a number > 0 (calls/s)");
  put("retryRatio", "retry-ratio", (n) => n >= 0 && n <= 1, "must be between 0 and 1");
  put("retryMinPerMinute", "retry-min-per-minute", (n) => Number.isInteger(n) && n >= 0, "must be a whole number ≥ 0");
  if (action === "show" && Object.keys(changes).length > 0) throw new UsageError("show takes only --key");
  if (action === "set" && Object.keys(changes).length === 0) throw new UsageError("set needs at least one of --rate, --burst, --min-rate, --retry-ratio, --retry-min-per-minute");

  const keyIssue = values.key === undefined ? undefined : limitKeyIssue(values.key);
  if (keyIssue) throw new UsageError(`--key ${keyIssue}, got ${JSON.stringify(values.key)}`);

  const { config } = await prepareRuntime("limits");
  const limitKey = values.key ?? config.RATE_LIMIT_KEY;
  const redis = createRedis(config.REDIS_URL, { cluster: config.REDIS_CLUSTER });
  try {
    const limiter = rateLimiterFromConfig(config, redis);
    const state = action === "show" ? await limiter.getState(limitKey) : await limiter.setLimits(limitKey, changes);
    process.stdout.write(JSON.stringify(state, null, 2) + "\n");
    return 0;
  } finally {
    await redis.quit().catch(() => redis.disconnect());
  }
}
