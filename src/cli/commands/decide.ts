import { userInfo } from "node:os";
import { createHeldDesk } from "../../app/held-desk.js";
import { producerFromConfig } from "../../app/from-config.js";
import { decisionSchema } from "../../schemas/decision.js";
import { formatFieldIssues, toFieldIssues } from "../../schemas/issues.js";
import { createRedis } from "../../store/redis/connection.js";
import { UsageError } from "../args.js";
import { defineCommand } from "../define-command.js";
import { prepareRuntime } from "../runtime.js";

const details = `Examples:
  pc-invitations decide AWS.pacinv-ABCDEFGHIJKLM accept
  pc-invitations decide AWS.pacinv-ABCDEFGHIJKLM reject --reason "not a partner of ours" --as alice

Decides on an invitation: enqueues its accept (or reject) under its default idempotency key, so two
people deciding alike make one request (the second is told who decided first), and deciding
otherwise is refused with the decision that stands. The outcome event carries who decided
(--as NAME, default the OS user) and why it was held. An invitation no longer pending (accepted or
rejected elsewhere, canceled, expired) is refused with its status; one never held is read first.
Exit: 0 enqueued (or the same decision already), 1 refused (not pending, decided otherwise, no such
invitation), 2 usage, 3 Redis unreachable, 4 Redis full. docs/held.md.`;

const options = {
  reason: { type: "string", description: "with reject: the reason sent to AWS (at most 256)", valueName: "TEXT" },
  as: { type: "string", description: "who decides (recorded as decidedBy; default the OS user)", valueName: "NAME" },
} as const;

export const decide = defineCommand({
  name: "decide",
  summary: "accept or reject a held invitation, as a person",
  args: ["[invitation]", "[action]"],
  options,
  details,
  output: { formats: ["json", "table"], tty: "table", piped: "table" },
  run: async ({ values, positionals, output }) => {
    const [invitation, action] = positionals;
    if (!invitation || !action)
      throw new UsageError("give the invitation (CATALOG.IDENTIFIER) and the decision (accept or reject)");
    const dot = invitation.indexOf(".");
    const input = {
      catalog: dot > 0 ? invitation.slice(0, dot) : invitation,
      identifier: dot > 0 ? invitation.slice(dot + 1) : "",
      action,
      ...(values.reason !== undefined ? { reason: values.reason } : {}),
      decidedBy: values.as ?? osUser(),
    };
    const checked = decisionSchema.safeParse(input);
    if (!checked.success) {
      const issues = toFieldIssues(checked.error).map((i) => ({ ...i, field: CLI_NAMES[i.field] ?? i.field }));
      throw new UsageError(formatFieldIssues(issues));
    }
    const { config } = await prepareRuntime("decide", { writes: true });
    const redis = createRedis(config.REDIS_URL, { cluster: config.REDIS_CLUSTER });
    const producer = producerFromConfig(config, redis);
    const desk = createHeldDesk(config, redis, producer);
    try {
      const result = await desk.decide(checked.data);
      if (output === "json") process.stdout.write(`${JSON.stringify(result)}\n`);
      else
        process.stdout.write(
          result.request.duplicate
            ? `${result.catalog}.${result.identifier}: ${result.action} already decided by ` +
                `${result.decidedBy ?? "a policy or a caller"} (request ${result.request.jobId})\n`
            : `${result.catalog}.${result.identifier}: ${result.action} enqueued as ${result.decidedBy} ` +
                `(request ${result.request.jobId})\n`,
        );
      return 0;
    } finally {
      await desk.close();
      await producer.close();
      await redis.quit().catch(() => redis.disconnect());
    }
  },
});

/** The decision's fields as this command names them. */
const CLI_NAMES: Record<string, string> = {
  catalog: "CATALOG.IDENTIFIER",
  identifier: "CATALOG.IDENTIFIER",
  action: "accept|reject",
  reason: "--reason",
  decidedBy: "--as",
};

/** Who runs the command: the OS account's name. */
function osUser(): string {
  try {
    return userInfo().username || "unknown";
  } catch {
    return "unknown";
  }
}
