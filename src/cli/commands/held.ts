import { createHeldDesk } from "../../app/held-desk.js";
import { producerFromConfig } from "../../app/from-config.js";
import { parseHeldQuery, type HeldInvitation } from "../../store/held-store.js";
import { createRedis } from "../../store/redis/connection.js";
import { formatFieldIssues } from "../../schemas/issues.js";
import { UsageError } from "../args.js";
import { defineCommand } from "../define-command.js";
import { prepareRuntime } from "../runtime.js";

const details = `Examples:
  pc-invitations held
  pc-invitations held --catalog AWS --output json
  pc-invitations held --limit 20 --cursor <next>

The invitations a discovery policy held (they wait for a person: pc-invitations decide), soonest
expiry first, a page at a time (--limit, default 50, at most 200; the next page's --cursor is
printed last). Read-only. docs/held.md.`;

const options = {
  catalog: { type: "string", description: "only invitations of this catalog", valueName: "CATALOG" },
  limit: { type: "string", description: "invitations per page, 1-200 (default 50)", valueName: "N" },
  cursor: { type: "string", description: "the `next` of the previous page", valueName: "CURSOR" },
} as const;

export const held = defineCommand({
  name: "held",
  summary: "list the held invitations (decisions waiting for a person), soonest expiry first",
  options,
  details,
  output: { formats: ["json", "table", "ndjson"], tty: "table", piped: "json" },
  run: async ({ values, output }) => {
    const parsed = parseHeldQuery({
      ...(values.catalog !== undefined ? { catalog: values.catalog } : {}),
      ...(values.limit !== undefined ? { limit: values.limit } : {}),
      ...(values.cursor !== undefined ? { cursor: values.cursor } : {}),
    });
    if ("issues" in parsed)
      throw new UsageError(formatFieldIssues(parsed.issues.map((i) => ({ ...i, field: `--${i.field}` }))));
    const { config } = await prepareRuntime("held");
    const redis = createRedis(config.REDIS_URL, { cluster: config.REDIS_CLUSTER });
    const producer = producerFromConfig(config, redis);
    const desk = createHeldDesk(config, redis, producer);
    try {
      const page = await desk.list(parsed.query);
      if (output === "json") process.stdout.write(`${JSON.stringify(page)}\n`);
      else if (output === "ndjson") for (const item of page.items) process.stdout.write(`${JSON.stringify(item)}\n`);
      else process.stdout.write(formatHeld(page.items, page.next, Date.now()));
      return 0;
    } finally {
      await desk.close();
      await producer.close();
      await redis.quit().catch(() => redis.disconnect());
    }
  },
});

/** The table: one line per held invitation, with the time left before it expires. */
export function formatHeld(items: readonly HeldInvitation[], next: string | null, nowMs: number): string {
  if (items.length === 0) return "no held invitations\n";
  const rows = items.map((r) => [
    `${r.catalog}.${r.identifier}`,
    r.otherParticipantIdentifier ?? "?",
    r.connectionType ?? "?",
    r.expiresAt ?? "(no expiry)",
    timeLeft(r.expiresAt, nowMs),
    r.rule === null ? "default" : `rule ${r.rule}`,
  ]);
  const head = ["INVITATION", "OTHER PARTICIPANT", "TYPE", "EXPIRES AT", "LEFT", "HELD BY"];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) =>
    `${cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join("  ")
      .trimEnd()}\n`;
  return [line(head), ...rows.map(line), ...(next ? [`next page: --cursor ${next}\n`] : [])].join("");
}

function timeLeft(expiresAt: string | null, nowMs: number): string {
  if (expiresAt === null) return "-";
  const ms = Date.parse(expiresAt) - nowMs;
  if (ms <= 0) return "expired";
  const h = Math.floor(ms / 3_600_000);
  return h >= 48 ? `${Math.floor(h / 24)}d` : h >= 1 ? `${h}h` : `${Math.max(1, Math.floor(ms / 60_000))}m`;
}
