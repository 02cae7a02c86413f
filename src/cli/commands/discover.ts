import { open } from "node:fs/promises";
import {
  heldFromConfig,
  apiFromConfig,
  pacingFromConfig,
  producerFromConfig,
  rateLimiterFromConfig,
} from "../../app/from-config.js";
import { createDiscovery } from "../../app/discovery.js";
import { startDiscoverySchedule, type ScheduledRun } from "../../app/discovery-schedule.js";
import { parsePolicyText, policySizeRule } from "../../producer/discovery-policy.js";
import type { DiscoverySummary } from "../../producer/discover.js";
import { createRedis } from "../../store/redis/connection.js";
import { catalogSchema } from "../../schemas/request-fields.js";
import { HOLD_ALL_POLICY, POLICY_MAX_BYTES, type DiscoveryPolicy } from "../../schemas/policy.js";
import { PolicyValidationError } from "../../errors/index.js";
import { durationArg, UsageError } from "../args.js";
import { defineCommand, type OptionValues } from "../define-command.js";
import { firstSignal, prepareRuntime } from "../runtime.js";

const details = `Usage:
  pc-invitations discover --catalog AWS [--catalog Sandbox] [--policy FILE] [--dry-run] [--every DURATION] [--json]

Lists the pending invitations sent to us (ListConnectionInvitations, ParticipantType=RECEIVER,
Status=PENDING, every page), each call through the shared rate limit, decides each by the policy
and enqueues the accepts and rejects (default idempotency key <catalog>.<identifier>), so running
it again enqueues nothing twice. Prints what it found: enqueued per action, duplicates, held,
conflicts, then one line per invitation, up to DISCOVERY_MAX_LISTED (default 1000; a last line says
how many more were counted but not listed) (--json: the summary as JSON, invitationsOmitted the
number not listed). Invitations are decided and enqueued page by page.
A listing that answers a NextToken it already answered in this run, or still has one after
DISCOVERY_MAX_PAGES pages (default 1000), ends the run: "ListConnectionInvitations failed:
RepeatedNextToken|TooManyPages: catalog …", exit 1 (what was enqueued so far stands).

  --policy FILE   JSON or YAML (schemas/discovery-policy.schema.json), at most 1 MiB, lists and
                  objects nested at most 32 deep, no YAML aliases; an empty file, null or ~ is refused:
                  {"default":"hold","rules":[{"action":"accept"|"reject"|"hold","reason"?:"…",
                   "when":{"otherParticipantIdentifiers"?:[…],"connectionTypes"?:[…],"inviterEmailDomains"?:[…]}}]}
                  The first rule that matches decides. Without --policy every invitation is held.
  --dry-run       decide and list, enqueue nothing
  --every 5m      keep running and discover once per period for the whole fleet, however many
                  discover --every processes run (a BullMQ job scheduler on DISCOVERY_QUEUE; the
                  last process started with other settings sets them for all); prints each run
                  this process made; SIGTERM/SIGINT: finish the run in progress, exit 0,
                  within SHUTDOWN_GRACE_MS whatever Redis does (6 when closing did not finish
                  by then; the next period runs again).
                  Durations: a whole number and ms, s, m, h or d.

Needs AWS credentials (standard chain) and, for the emulator, PARTNERCENTRAL_ENDPOINT, like a worker.
Exit: 0 done, 1 some invitation conflicted with an existing request (another action or reason) or
an API call failed, 2 usage or invalid policy, 3 Redis unreachable, 4 Redis full.`;

const options = {
  catalog: {
    type: "string",
    multiple: true,
    description: "a catalog to discover in (AWS, Sandbox; repeatable)",
    valueName: "CATALOG",
  },
  policy: { type: "string", description: "the discovery policy, JSON or YAML (default: hold all)", valueName: "FILE" },
  "dry-run": { type: "boolean", description: "decide and list, enqueue nothing" },
  every: {
    type: "string",
    description: "keep running: one fleet-wide discovery per period (5m, 1h…)",
    valueName: "DURATION",
  },
} as const;

export const discover = defineCommand({
  name: "discover",
  summary: "find the invitations waiting for us and enqueue what the policy decides",
  options,
  details,
  output: { formats: ["json", "table"], tty: "table", piped: "table" },
  run: ({ values, output }) => discoverCommand(values, output === "json"),
});

async function discoverCommand(values: OptionValues<typeof options>, json: boolean): Promise<number> {
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
  const held = heldFromConfig(config, redis, logger);
  try {
    const run = createDiscovery({
      api,
      pacing: pacingFromConfig(config, rateLimiterFromConfig(config, redis)),
      producer,
      defaults: { maxPages: config.DISCOVERY_MAX_PAGES, maxListed: config.DISCOVERY_MAX_LISTED },
      held,
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
            json
              ? `${JSON.stringify({ ...r.summary, scheduledAt: r.scheduledAt, jobId: r.jobId })}\n`
              : formatScheduledRun(r),
          ),
      });
      await signalled!;
      logger.info("stopping: the discovery in progress finishes, the schedule stays for the fleet");
      // Closing waits on Redis: one that is down, stopped or refusing the password is cut off at the
      // end of the grace period by firstSignal's forced exit.
      await schedule.close();
      return 0;
    }
    const summary = await run({ catalogs, policy, dryRun });
    process.stdout.write(json ? `${JSON.stringify(summary)}\n` : formatDiscovery(summary));
    return summary.conflicts > 0 ? 1 : 0;
  } finally {
    api.destroy();
    await held.close();
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

/**
 * A policy file, parsed and validated; its errors name the file, the field and the rule (exit 2).
 * At most POLICY_MAX_BYTES are read, whatever the file is (a regular file over it is refused before
 * it is read; a pipe or a device, whose size stat does not tell, is read up to one byte more).
 */
export async function readPolicy(file: string): Promise<DiscoveryPolicy> {
  const cannotRead = (err: NodeJS.ErrnoException) =>
    new UsageError(`cannot read --policy ${file}: ${err.code ?? err.message}`);
  const tooLarge = (bytes: number | "more") =>
    new PolicyValidationError([{ field: "(file)", rule: policySizeRule(bytes) }], file);
  const handle = await open(file, "r").catch((err: NodeJS.ErrnoException) => {
    throw cannotRead(err);
  });
  let text: string;
  try {
    const stat = await handle.stat();
    if (stat.isFile() && stat.size > POLICY_MAX_BYTES) throw tooLarge(stat.size);
    const buffer = Buffer.alloc(POLICY_MAX_BYTES + 1);
    let length = 0;
    while (length < buffer.length) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, null).catch((err) => {
        throw cannotRead(err as NodeJS.ErrnoException);
      });
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    if (length > POLICY_MAX_BYTES) throw tooLarge("more");
    text = buffer.toString("utf8", 0, length);
  } finally {
    await handle.close();
  }
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
  if (s.invitationsOmitted > 0)
    lines.push(`… and ${s.invitationsOmitted} more invitation(s), counted above, not listed (DISCOVERY_MAX_LISTED)`);
  return `${lines.join("\n")}\n`;
}
