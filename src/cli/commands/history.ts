import { apiFromConfig, pacingFromConfig, rateLimiterFromConfig } from "../../app/from-config.js";
import { createHistoryDrift } from "../../app/history.js";
import { redactUrl } from "../../config/load-config.js";
import { exportHistory, EXPORT_FORMATS, type ExportFormat } from "../../history/export.js";
import { migrateHistory } from "../../history/migrate.js";
import { createHistoryPool, type HistoryPool } from "../../history/pool.js";
import { HISTORY_PAGE_MAX, queryHistory, type HistoryQuery } from "../../history/query.js";
import { applyRetention } from "../../history/retention.js";
import { verifyHistory } from "../../history/verify.js";
import { parseDuration } from "../../schemas/duration.js";
import type { Config } from "../../schemas/config.js";
import { createRedis } from "../../store/redis/connection.js";
import { intArg, UsageError } from "../args.js";
import { defineCommand, type OptionValues } from "../define-command.js";
import { driftText, formatHistory, parseSince, verifyText } from "../history-output.js";
import { firstSignal, prepareRuntime } from "../runtime.js";

const filters = {
  identifier: { type: "string", description: "the invitation's identifier (pacinv-…)" },
  catalog: { type: "string", description: "the catalog (AWS, Sandbox)" },
  partner: { type: "string", description: "the other participant: an account id or a profile id" },
  "request-id": { type: "string", description: "the request's id" },
  type: { type: "string", description: "the event type (accepted, rejected, failed, canceled, invitation.held…)" },
  since: {
    type: "string",
    description: "events since: a duration back (7d, 12h) or an ISO-8601 time",
    valueName: "WHEN",
  },
} as const;

function queryOf(values: OptionValues<typeof filters>): HistoryQuery {
  let since: Date | undefined;
  try {
    since = parseSince(values.since, parseDuration);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const query: HistoryQuery = {};
  if (values.identifier !== undefined) query.identifier = values.identifier;
  if (values.catalog !== undefined) query.catalog = values.catalog;
  if (values.partner !== undefined) query.partner = values.partner;
  if (values["request-id"] !== undefined) query.requestId = values["request-id"];
  if (values.type !== undefined) query.type = values.type;
  if (since !== undefined) query.since = since;
  return query;
}

/** Config without Redis, DATABASE_URL required (exit 2 naming it when unset). */
async function historyRuntime(path: string, needsRedis = false): Promise<{ config: Config; url: string }> {
  const { config } = await prepareRuntime(`history ${path}`.trim(), { needsRedis });
  if (!config.DATABASE_URL)
    throw new UsageError("DATABASE_URL is not set: the history lives in PostgreSQL (docs/history.md)");
  return { config, url: config.DATABASE_URL };
}

/** Runs `use` with a pool; a PostgreSQL that cannot be reached is one line and exit 1, never a stack. */
async function withPool(path: string, url: string, use: (pool: HistoryPool) => Promise<number>): Promise<number> {
  const pool = createHistoryPool(url, { max: 2 });
  try {
    return await use(pool);
  } catch (err) {
    const e = err as { code?: string; message?: string };
    if (e.code === "ECONNREFUSED" || e.code === "ENOTFOUND" || /timeout|terminated|connect/i.test(e.message ?? "")) {
      process.stderr.write(
        `pc-invitations history ${path}: PostgreSQL at ${redactUrl(url)} unreachable: ${e.message}\n`,
      );
      return 1;
    }
    if (e.code === "42P01") {
      process.stderr.write(
        `pc-invitations ${`history ${path}`.trim()}: no history tables: run 'pc-invitations history migrate'\n`,
      );
      return 1;
    }
    throw err;
  } finally {
    await pool.end().catch(() => {});
  }
}

const listOptions = {
  ...filters,
  limit: {
    type: "string",
    description: `rows at most (default 100, at most ${HISTORY_PAGE_MAX}; export has none)`,
    valueName: "N",
  },
} as const;

const migrate = defineCommand({
  name: "migrate",
  summary: "create or update the history's tables (deliver does it at start too)",
  details:
    "Applies the migrations not yet applied (node-pg-migrate, one at a " +
    "time across processes). Exit: 0 done, 1 failed, 2 DATABASE_URL unset.",
  output: { formats: ["json", "table"], tty: "table", piped: "json" },
  run: async ({ output }) => {
    const { url } = await historyRuntime("migrate");
    const applied = await migrateHistory(url);
    process.stdout.write(
      output === "json"
        ? `${JSON.stringify({ applied })}\n`
        : applied.length
          ? `applied: ${applied.join(", ")}\n`
          : "up to date\n",
    );
    return 0;
  },
});

const verify = defineCommand({
  name: "verify",
  summary: "check the hash chain: exit 1 naming the first row that was edited, removed or relinked",
  details:
    "Reads every row in order (a cursor: bounded memory) from the anchor " +
    "retention left. Exit: 0 intact, 1 broken (the first bad row is " +
    "named), 2 DATABASE_URL unset.",
  output: { formats: ["json", "table"], tty: "table", piped: "json" },
  run: async ({ output }) => {
    const { url } = await historyRuntime("verify");
    return withPool("verify", url, async (pool) => {
      const result = await verifyHistory(pool);
      process.stdout.write(output === "json" ? `${JSON.stringify(result)}\n` : verifyText(result));
      return result.ok ? 0 : 1;
    });
  },
});

const exportCommand = defineCommand({
  name: "export",
  summary: "every row (filtered), streamed as NDJSON or CSV",
  options: {
    ...filters,
    format: { type: "string", description: "ndjson (default) or csv", valueName: "FORMAT" },
  },
  details: "Streamed through a cursor with bounded memory, whatever the table holds. Exit: 0 done, 1 failed, 2 usage.",
  output: { formats: ["ndjson"], tty: "ndjson", piped: "ndjson" },
  run: async ({ values }) => {
    const format = (values.format ?? "ndjson") as ExportFormat;
    if (!EXPORT_FORMATS.includes(format))
      throw new UsageError(`--format must be ndjson or csv, got "${values.format}"`);
    const query = queryOf(values);
    const { url } = await historyRuntime("export");
    const stop = new AbortController();
    void firstSignal().then(() => stop.abort());
    return withPool("export", url, async (pool) => {
      await exportHistory(pool, process.stdout, format, query, { signal: stop.signal });
      return 0;
    });
  },
});

const drift = defineCommand({
  name: "drift",
  summary: "active connections made outside the desk, and connections in history no longer active",
  options: {
    catalog: { type: "string", description: "the catalog (default AWS)" },
    "max-pages": { type: "string", description: "ListConnections pages at most (default 100)", valueName: "N" },
    "max-checks": { type: "string", description: "GetConnection calls at most (default 500)", valueName: "N" },
  },
  details:
    "ListConnections (active connections) against the history; GetConnection for each connection the history holds that is\n" +
    "not listed, to say whether it was canceled and by whom. Every call through the shared rate limit (Redis).\n" +
    "Exit: 0 no drift, 1 drift found (or failed), 2 usage, 3 Redis unreachable.",
  output: { formats: ["json", "table"], tty: "table", piped: "json" },
  run: async ({ values, output }) => {
    const maxPages = intArg(values["max-pages"], "max-pages", 1);
    const maxChecks = intArg(values["max-checks"], "max-checks", 0);
    const { config, url } = await historyRuntime("drift", true);
    const redis = createRedis(config.REDIS_URL, { cluster: config.REDIS_CLUSTER });
    const api = apiFromConfig(config);
    const stop = new AbortController();
    void firstSignal().then(() => stop.abort());
    try {
      return await withPool("drift", url, async (pool) => {
        const run = createHistoryDrift({
          api,
          pacing: pacingFromConfig(config, rateLimiterFromConfig(config, redis)),
          pool,
        });
        const report = await run({
          catalog: values.catalog ?? "AWS",
          signal: stop.signal,
          ...(maxPages !== undefined ? { maxPages } : {}),
          ...(maxChecks !== undefined ? { maxChecks } : {}),
        });
        process.stdout.write(output === "json" ? `${JSON.stringify(report)}\n` : driftText(report));
        return report.outsideDesk.length + report.noLongerActive.length === 0 ? 0 : 1;
      });
    } finally {
      api.destroy();
      redis.disconnect();
    }
  },
});

const retain = defineCommand({
  name: "retain",
  summary: "remove rows older than HISTORY_RETENTION_DAYS now (deliver does it hourly)",
  options: { days: { type: "string", description: "days to keep (default HISTORY_RETENTION_DAYS)", valueName: "N" } },
  details:
    "Removes the oldest rows, keeping the hash the first kept row chains " +
    "to (verify still passes). Exit: 0 done, 2 no days given.",
  output: { formats: ["json", "table"], tty: "table", piped: "json" },
  run: async ({ values, output }) => {
    const { config, url } = await historyRuntime("retain");
    const days = intArg(values.days, "days", 0) ?? config.HISTORY_RETENTION_DAYS;
    if (days === undefined) throw new UsageError("give --days or set HISTORY_RETENTION_DAYS");
    return withPool("retain", url, async (pool) => {
      const result = await applyRetention(pool, days);
      process.stdout.write(output === "json" ? `${JSON.stringify(result)}\n` : `removed ${result.removed} row(s)\n`);
      return 0;
    });
  },
});

export const history = defineCommand({
  name: "history",
  summary: "the history in PostgreSQL: every outcome and decision (DATABASE_URL)",
  options: listOptions,
  details:
    "Usage:\n  pc-invitations history [--identifier I] [--partner P] [--since 7d] [--output json|table|csv]\n" +
    "  pc-invitations history migrate | verify | export --format ndjson|csv | drift | retain\n" +
    "Oldest first. Exit: 0 listed, 1 PostgreSQL unreachable, 2 usage or DATABASE_URL unset. See docs/history.md.",
  output: { formats: ["json", "table", "ndjson", "csv"], tty: "table", piped: "json" },
  subcommands: [migrate, verify, exportCommand, drift, retain],
  run: async ({ values, output }) => {
    const limit = intArg(values.limit, "limit", 1) ?? 100;
    if (limit > HISTORY_PAGE_MAX)
      throw new UsageError(`--limit must be ≤ ${HISTORY_PAGE_MAX} (use history export for more)`);
    const query = queryOf(values);
    const { url } = await historyRuntime("");
    return withPool("", url, async (pool) => {
      process.stdout.write(formatHistory(await queryHistory(pool, query, limit), output));
      return 0;
    });
  },
});
