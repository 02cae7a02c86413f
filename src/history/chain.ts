import { createHash } from "node:crypto";

/** What the first row chains to when nothing was ever removed: 64 zeros. */
export const GENESIS_HASH = "0".repeat(64);

/**
 * Every column of a history row that its hash covers, as text: what is written is what is hashed,
 * and verify reads the same columns back. Timestamps are ISO-8601 with milliseconds (what
 * timestamptz gives back, so a row read back hashes the same).
 */
export interface ChainedRow {
  seq: number;
  eventId: string;
  type: string;
  requestId: string | null;
  catalog: string | null;
  identifier: string | null;
  partner: string | null;
  connectionId: string | null;
  action: string | null;
  decidedBy: string | null;
  policyRule: number | null;
  policyHash: string | null;
  awsRequestId: string | null;
  occurredAt: string;
  recordedAt: string;
  /** The event, as JSON text. */
  body: string;
}

/**
 * SHA-256 (hex) of the previous row's hash and this row's columns, in a fixed order, as one JSON
 * array: a change to any column, to the order of rows, or to the row before changes it.
 */
export function rowHash(prevHash: string, row: ChainedRow): string {
  const material = JSON.stringify([
    prevHash,
    row.seq,
    row.eventId,
    row.type,
    row.requestId,
    row.catalog,
    row.identifier,
    row.partner,
    row.connectionId,
    row.action,
    row.decidedBy,
    row.policyRule,
    row.policyHash,
    row.awsRequestId,
    row.occurredAt,
    row.recordedAt,
    row.body,
  ]);
  return createHash("sha256").update(material, "utf8").digest("hex");
}
