import { readFile } from "node:fs/promises";
import { apiFromConfig, pacingFromConfig, producerFromConfig, rateLimiterFromConfig } from "../../app/from-config.js";
import { createDiscovery } from "../../app/discovery.js";
import { startDiscoverySchedule, type ScheduledRun } from "../../app/discovery-schedule.js";
import { parsePolicyText } from "../../producer/discovery-policy.js";
import type { DiscoverySummary } from "../../producer/discover.js";
import { createRedis } from "../../store/redis/connection.js";
import { catalogSchema } from "../../schemas/request.js";
import { HOLD_ALL_POLICY, type DiscoveryPolicy } from "../../schemas/policy.js";
import { durationArg, parse, UsageError } from "../args.js";
import { firstSignal, prepareRuntime } from "../runtime.js";

export const discoverHelp = `pc-invitations discover: find the invitations waiting for us and enqueue what the policy decides

  pc-invitations discover --catalog AWS [--catalog Sandbox] [--policy FILE] [--dry-run] [--every DURATION] [--json]

Lists the pending invitations sent to us (ListConnectionInvitations, ParticipantType=RECEIVER,
Status=PENDING, every page), each call through the shared rate limit, decides each by the policy
and enqueues the accepts and rejects (default idempotency key <catalog>.<identifier>), so running
it again enqueues nothing twice. Prints what it found: enqueued per action, duplicates, held,
conflicts, then one line per invitation (--json: the summary as JSON).

  --policy FILE   JSON or YAML (schemas/discovery-policy.schema.json):
                  {"default":"hold","rules":[{"action":"accept"|"reject"|"hold","reason"?:"…",
                   "when":{"otherParticipantIdentifiers"?:[…],"connectionTypes"?:[…],"inviterEmailDomains"?:[…]}}]}
                  The first rule that matches decides. Without --policy every invitation is held.
  --dry-run       decide and list, enqueue nothing
  --every 5m      keep running and discover once per period for the whole fleet, however many
                  discover --every processes run (a BullMQ job scheduler on DISCOVERY_QUEUE; the
                  last process started with other settings sets them for all); prints each run
                  this process made; SIGTERM/SIGINT: finish the run in progress, exit 0.
                  Durations: a whole number and ms, s, m, h or d.

Needs AWS credentials (standard chain) and, for the emulator, PARTNERCENTRAL_ENDPOINT, like a worker.
Exit: 0 done, 1 some invitation conflicted with an existing request (another action or reason) or
an API call failed, 2 usage or invalid policy, 3 Redis unreachable, 4 Redis full.`;

export async function discoverCommand(argv: string[]): Promise<number> {
  const { values } = parse(argv, {
    catalog: { type: "string", multiple: true },
    policy: { type: "string" },
    "dry-run": { type: "boolean" },
    json: { type: "boolean" },
    every: { type: "string" },
  });
  const catalogs = catalogsArg(values.catalog);
  const everyMs = durationArg(values.every, "every");
  if (everyMs !== undefined && everyMs < 1000)
    throw new UsageError(`--every must be at least 1s, got "${values.every}"`);
  const policy = values.policy === undefined ? HOLD_ALL_POLICY : await readPolicy(values.policy);
  const dryRun = values["dry-run"] === true;

  // --every writes the fleet's schedule even for a dry run.
  // --every runs until a signal: listened for from here, before the schedule logs that it started.
  const signalled = everyMs !== undefined ? firstSignal() : undefined;
  const { config, logger } = await prepareRuntime("discover", { writes: !dryRun || everyMs !== undefined });
  const redis = createRedis(config.REDIS_URL, { cluster: config.REDIS_CLUSTER });
  const producer = producerFromConfig(config, redis);
  const api = apiFromConfig(config);
  try {
    const run = createDiscovery({
      api,
      pacing: pacingFromConfig(config, rateLimiterFromConfig(config, redis)),
      producer,
    });
    if (everyMs !== undefined) {
      const schedule = await startDiscoverySchedule({
        connection: redis,
        prefix: config.QUEUE_PREFIX,
        queueName: config.DISCOVERY_QUEUE,
        everyMs,
        request: { catalogs, policy, dryRun },
        run,
        logger,
        onRun: (r) =>
          process.stdout.write(
            values.json
              ? `${JSON.stringify({ ...r.summary, scheduledAt: r.scheduledAt, jobId: r.jobId })}\n`
              : formatScheduledRun(r),
          ),
      });
      await signalled!;
      logger.info("stopping: the discovery in progress finishes, the schedule stays for the fleet");
      await schedule.close();
      return 0;
    }
    const summary = await run({ catalogs, policy, dryRun });
    process.stdout.write(values.json ? `${JSON.stringify(summary)}\n` : formatDiscovery(summary));
    return summary.conflicts > 0 ? 1 : 0;
  } finally {
    api.destroy();
    await producer.close();
    await redis.quit().catch(() => redis.disconnect());
  }
}

/** --catalog values: at least one, each a valid catalog. */
export function catalogsArg(values: string[] | undefined): string[] {
  if (!values || values.length === 0) throw new UsageError("give at least one --catalog (AWS, Sandbox)");
  for (const c of values) {
    const parsed = catalogSchema.safeParse(c);
    if (!parsed.success) throw new UsageError(`--catalog ${parsed.error.issues[0]!.message}, got ${JSON.stringify(c)}`);
  }
  return [...new Set(values)];
}

/** A policy file, parsed and validated; its errors are usage errors naming the rule and field. */
export async function readPolicy(file: string): Promise<DiscoveryPolicy> {
  const text = await readFile(file, "utf8").catch((err: NodeJS.ErrnoException) => {
    throw new UsageError(`cannot read --policy ${file}: ${err.code ?? err.message}`);
  });
  return parsePolicyText(text, file);
}

function formatScheduledRun(r: ScheduledRun): string {
  return `scheduled discovery for ${r.scheduledAt} (job ${r.jobId}, run ${r.summary.runId}):\n${formatDiscovery(r.summary)}`;
}

/** The summary for people: one line of counts, then one line per invitation. */
export function formatDiscovery(s: DiscoverySummary): string {
  const verb = s.dryRun ? "would enqueue" : "enqueued";
  const lines = [
    `${s.dryRun ? "dry run, nothing enqueued: " : ""}found ${s.found} pending invitation(s) in ${s.catalogs.join(", ")}; ` +
      `${verb} ${s.enqueued.accept} accept, ${s.enqueued.reject} reject; ${s.duplicates} duplicate(s); ${s.held} held; ${s.conflicts} conflict(s)`,
  ];
  for (const i of s.invitations) {
    const by = i.rule === null ? "default" : `rule ${i.rule}`;
    const what =
      i.result === "conflict"
        ? `conflict: already requested otherwise (differs in: ${i.differences?.join(", ")}; existing job ${i.existingJobId})`
        : i.result === "held"
          ? "held"
          : `${i.result === "enqueued" ? verb : "duplicate"}${i.jobId ? ` ${i.jobId}` : ""}`;
    lines.push(
      `${i.decision.padEnd(6)} ${i.catalog} ${i.identifier} ${i.otherParticipantIdentifier ?? "-"} ${i.connectionType ?? "-"} (${by}): ${what}`,
    );
  }
  return `${lines.join("\n")}\n`;
}
