import { csvHeader, csvLine } from "../history/export.js";
import type { HistoryRecord } from "../history/query.js";
import type { DriftReport } from "../history/drift.js";
import type { VerifyResult } from "../history/verify.js";

/** `history --since`: a duration back from now (`7d`, `12h`) or an ISO-8601 time; undefined when not given. */
export function parseSince(
  value: string | undefined,
  durationMs: (v: string) => number | undefined,
  now = Date.now(),
): Date | undefined {
  if (value === undefined) return undefined;
  const ms = durationMs(value);
  if (ms !== undefined) return new Date(now - ms);
  const date = new Date(value);
  if (/^\d{4}-\d{2}-\d{2}/.test(value) && !Number.isNaN(date.getTime())) return date;
  throw new Error(
    `--since must be a duration (7d, 12h, 30m) or an ISO-8601 time (2026-12-01T00:00:00Z), got "${value}"`,
  );
}

const pad = (text: string, width: number) =>
  text.length > width ? `${text.slice(0, width - 1)}…` : text.padEnd(width);

/** The table of `pc-invitations history`: one line per row, oldest first. */
export function historyTable(records: readonly HistoryRecord[]): string {
  const head = `${pad("SEQ", 7)} ${pad("OCCURRED", 24)} ${pad("TYPE", 20)} ${pad("IDENTIFIER", 22)} ${pad("PARTNER", 14)} ${pad("CONNECTION", 18)} DECIDED BY`;
  const lines = records.map(
    (r) =>
      `${pad(String(r.seq), 7)} ${pad(r.occurredAt, 24)} ${pad(r.type, 20)} ${pad(r.identifier ?? "-", 22)} ` +
      `${pad(r.partner ?? "-", 14)} ${pad(r.connectionId ?? "-", 18)} ${r.decidedBy ?? "-"}`,
  );
  return `${[head, ...lines].join("\n")}\n${records.length} row(s)\n`;
}

/** `pc-invitations history` in a format: the table, one JSON array, NDJSON, or CSV. */
export function formatHistory(records: readonly HistoryRecord[], format: "json" | "table" | "ndjson" | "csv"): string {
  if (format === "table") return historyTable(records);
  if (format === "csv") return csvHeader() + records.map(csvLine).join("");
  if (format === "ndjson") return records.map((r) => `${JSON.stringify(r)}\n`).join("");
  return `${JSON.stringify(records)}\n`;
}

/** `history verify` for people. */
export function verifyText(result: VerifyResult): string {
  const from = result.from.seq === 0 ? "the start" : `the anchor after seq ${result.from.seq} (retention)`;
  if (result.ok) return `history intact: ${result.checked} row(s) checked from ${from}, last seq ${result.last.seq}\n`;
  const b = result.firstBreak!;
  return `history broken at seq ${b.seq} (event ${b.eventId}): ${b.problem}: ${b.detail}\n`;
}

/** `history drift` for people. */
export function driftText(report: DriftReport): string {
  const lines = [
    `catalog ${report.catalog}: ${report.listed} active connection(s) listed, ${report.inHistory} in history${report.truncated ? " (stopped at a bound: --max-pages/--max-checks)" : ""}`,
    `made outside the desk: ${report.outsideDesk.length}`,
    ...report.outsideDesk.map(
      (c) =>
        `  ${c.connectionId}  partner ${c.otherParticipantAccountId ?? "-"}  ${Object.entries(c.connectionTypes)
          .map(([t, s]) => `${t}=${s}`)
          .join(" ")}`,
    ),
    `in history, no longer active: ${report.noLongerActive.length}`,
    ...report.noLongerActive.map(
      (c) =>
        `  ${c.connectionId}  ${c.identifier ?? "-"}  partner ${c.partner ?? "-"}  ${c.status}` +
        (c.canceledByOtherSide === true
          ? " by the other side"
          : c.canceledByOtherSide === false
            ? " by another account (ours?)"
            : ""),
    ),
    `canceled by the other side (noted from events): ${report.canceledNoted.length}`,
    ...report.canceledNoted.map(
      (c) => `  ${c.connectionId}  partner ${c.partner ?? "-"}  canceled by ${c.canceledBy ?? "-"}  noted ${c.notedAt}`,
    ),
  ];
  return `${lines.join("\n")}\n`;
}
