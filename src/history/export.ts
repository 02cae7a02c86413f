import { once } from "node:events";
import type { Writable } from "node:stream";
import type { HistoryPool } from "./pool.js";
import { streamHistory, type HistoryQuery, type HistoryRecord } from "./query.js";

export const EXPORT_FORMATS = ["ndjson", "csv"] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** The columns of a CSV export, in order (the event itself is in the `event` column, as JSON). */
export const CSV_COLUMNS = [
  "seq",
  "occurredAt",
  "recordedAt",
  "eventId",
  "type",
  "requestId",
  "catalog",
  "identifier",
  "partner",
  "connectionId",
  "action",
  "decidedBy",
  "policyRule",
  "policyHash",
  "awsRequestId",
  "hash",
  "event",
] as const;

/**
 * One CSV field (RFC 4180): quoted when it holds a comma, a quote, a line break, or starts with a
 * character a spreadsheet would read as a formula (=, +, -, @, tab, CR), which is then prefixed with '
 * inside the quotes (OWASP's CSV injection advice). null is an empty field.
 */
export function csvField(value: unknown): string {
  if (value === null || value === undefined) return "";
  let text = typeof value === "string" ? value : typeof value === "object" ? JSON.stringify(value) : String(value);
  const formula = /^[=+\-@\t\r]/.test(text) && typeof value === "string";
  if (formula) text = `'${text}`;
  return formula || /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function csvHeader(): string {
  return `${CSV_COLUMNS.join(",")}\r\n`;
}

export function csvLine(record: HistoryRecord): string {
  return `${CSV_COLUMNS.map((c) => csvField(record[c])).join(",")}\r\n`;
}

export function ndjsonLine(record: HistoryRecord): string {
  return `${JSON.stringify(record)}\n`;
}

/**
 * Writes every row a query matches to `out` (ndjson: one HistoryRecord per line; csv: a header,
 * then CSV_COLUMNS per row), streamed: rows are read through a cursor a batch at a time and a write
 * that fills `out`'s buffer waits for 'drain', so memory stays bounded whatever the table holds.
 * Resolves to the number of rows written.
 */
export async function exportHistory(
  pool: HistoryPool,
  out: Writable,
  format: ExportFormat,
  query: HistoryQuery = {},
  options: { batchSize?: number; signal?: AbortSignal } = {},
): Promise<number> {
  const write = async (text: string) => {
    if (!out.write(text)) await once(out, "drain", options.signal ? { signal: options.signal } : {});
  };
  if (format === "csv") await write(csvHeader());
  let rows = 0;
  for await (const record of streamHistory(pool, query, options)) {
    await write(format === "csv" ? csvLine(record) : ndjsonLine(record));
    rows++;
  }
  return rows;
}
