import { createRedis } from "../../store/redis/connection.js";
import {
  type DiscoveryScheduleInfo,
  listDiscoverySchedules,
  removeDiscoverySchedule,
  type ScheduleLocation,
} from "../../store/redis/schedules.js";
import { UsageError } from "../args.js";
import { defineCommand, defineGroup } from "../define-command.js";
import { prepareRuntime } from "../runtime.js";

const list = defineCommand({
  name: "list",
  summary: "list the discovery schedules in Redis (left by discover --every)",
  details:
    "One line per schedule: its id, period, next run and what it discovers (--output json: a list).\n" +
    "Read-only. Exit: 0, 3 Redis unreachable.",
  output: { formats: ["json", "table", "ndjson"], tty: "table", piped: "json" },
  run: async ({ output }) =>
    withLocation(false, async (location) => {
      const schedules = await listDiscoverySchedules(location);
      if (output === "json") process.stdout.write(`${JSON.stringify({ count: schedules.length, schedules })}\n`);
      else if (output === "ndjson") for (const s of schedules) process.stdout.write(`${JSON.stringify(s)}\n`);
      else process.stdout.write(formatSchedules(schedules, location));
      return 0;
    }),
});

const remove = defineCommand({
  name: "remove",
  summary: "remove a discovery schedule (default: the one discover --every writes)",
  args: ["[id]"],
  options: { all: { type: "boolean", description: "remove every discovery schedule" } },
  details:
    "The schedule and its next discovery go; a discovery already running finishes. A discover --every\n" +
    "process still running keeps running its own runs until it stops, and writes the schedule again\n" +
    "when started again. Exit: 0 removed, 1 no such schedule, 2 usage, 3 Redis unreachable.",
  output: { formats: ["json", "table"], tty: "table", piped: "table" },
  run: async ({ values, positionals, output }) => {
    if (values.all && positionals[0]) throw new UsageError("give an id or --all, not both");
    return withLocation(true, async (location) => {
      const ids = values.all
        ? (await listDiscoverySchedules(location)).map((s) => s.id)
        : [positionals[0] ?? "discover"];
      const removed: string[] = [];
      const missing: string[] = [];
      for (const id of ids) ((await removeDiscoverySchedule(location, id)) ? removed : missing).push(id);
      if (output === "json") process.stdout.write(`${JSON.stringify({ removed, missing })}\n`);
      else {
        const lines = [
          ...removed.map((id) => `removed schedule ${id}`),
          ...missing.map((id) => `no schedule ${id} in ${location.prefix} ${location.queueName}`),
          `${removed.length} schedule(s) removed`,
        ];
        process.stdout.write(`${lines.join("\n")}\n`);
      }
      return missing.length > 0 ? 1 : 0;
    });
  },
});

export const schedules = defineGroup({
  name: "schedules",
  summary: "list or remove the fleet's discovery schedules (discover --every)",
  commands: [list, remove],
});

function formatSchedules(schedules: DiscoveryScheduleInfo[], location: ScheduleLocation): string {
  const lines = schedules.map((s) => {
    const period = s.everyMs !== null ? `every ${formatMs(s.everyMs)}` : `cron ${s.pattern ?? "?"}`;
    return `${s.id}  ${period}  next ${s.next ?? "?"}  runs ${s.iterations}  ${JSON.stringify(s.discovery)}`;
  });
  lines.push(
    `${schedules.length} discovery schedule(s) in ${location.prefix} ${location.queueName}` +
      (schedules.length > 0 ? "; remove with: pc-invitations schedules remove [id]" : ""),
  );
  return `${lines.join("\n")}\n`;
}

function formatMs(ms: number): string {
  for (const [unit, size] of [
    ["d", 86_400_000],
    ["h", 3_600_000],
    ["m", 60_000],
    ["s", 1000],
  ] as const)
    if (ms % size === 0) return `${ms / size}${unit}`;
  return `${ms}ms`;
}

async function withLocation(writes: boolean, fn: (location: ScheduleLocation) => Promise<number>): Promise<number> {
  const { config } = await prepareRuntime("schedules", { writes });
  const redis = createRedis(config.REDIS_URL, { cluster: config.REDIS_CLUSTER });
  try {
    return await fn({ redis, prefix: config.QUEUE_PREFIX, queueName: config.DISCOVERY_QUEUE });
  } finally {
    redis.disconnect();
  }
}
