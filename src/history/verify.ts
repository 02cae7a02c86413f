import Cursor from "pg-cursor";
import { GENESIS_HASH, rowHash, type ChainedRow } from "./chain.js";
import { checkOut, type HistoryPool } from "./pool.js";

/** The first row that breaks the chain, and how. */
export interface ChainBreak {
  seq: number;
  eventId: string;
  /** `edited`: its columns do not hash to its hash; `relinked`: its prev_hash is not the hash before it;
   * `missing`: a row before it is gone (its seq does not follow). */
  problem: "edited" | "relinked" | "missing";
  detail: string;
}

export interface VerifyResult {
  ok: boolean;
  /** Rows checked (all of them when ok; up to and with the first bad one otherwise). */
  checked: number;
  /** Where the chain starts: the anchor retention left (seq and hash of the last removed row), or seq 0. */
  from: { seq: number; hash: string };
  /** The last good row's seq and hash. */
  last: { seq: number; hash: string };
  firstBreak: ChainBreak | null;
}

/** The columns of a row as stored, hash and prev_hash included. */
export interface StoredRow {
  seq: string;
  event_id: string;
  type: string;
  request_id: string | null;
  catalog: string | null;
  identifier: string | null;
  partner: string | null;
  connection_id: string | null;
  action: string | null;
  decided_by: string | null;
  policy_rule: number | null;
  policy_hash: string | null;
  aws_request_id: string | null;
  occurred_at: Date;
  recorded_at: Date;
  body: string;
  prev_hash: string;
  hash: string;
}

export const STORED_COLUMNS =
  "seq, event_id, type, request_id, catalog, identifier, partner, connection_id, action, decided_by, " +
  "policy_rule, policy_hash, aws_request_id, occurred_at, recorded_at, body, prev_hash, hash";

/** A stored row as the hash saw it when written. */
export function chainedRowOf(row: StoredRow): ChainedRow {
  return {
    seq: Number(row.seq),
    eventId: row.event_id,
    type: row.type,
    requestId: row.request_id,
    catalog: row.catalog,
    identifier: row.identifier,
    partner: row.partner,
    connectionId: row.connection_id,
    action: row.action,
    decidedBy: row.decided_by,
    policyRule: row.policy_rule,
    policyHash: row.policy_hash,
    awsRequestId: row.aws_request_id,
    occurredAt: row.occurred_at.toISOString(),
    recordedAt: row.recorded_at.toISOString(),
    body: row.body,
  };
}

/**
 * Walks the chain from the anchor (or the zero hash) in seq order, `batchSize` rows at a time
 * through a cursor (memory stays bounded whatever the table's size), inside one repeatable-read,
 * read-only transaction (the anchor and the rows of one moment, whatever retention or writers do
 * meanwhile). Each row must follow the one before (seq + 1), name its hash (prev_hash), and hash to
 * its own hash from its columns. Stops at the first row that does not.
 */
export async function verifyHistory(pool: HistoryPool, options: { batchSize?: number } = {}): Promise<VerifyResult> {
  const { client, release } = await checkOut(pool);
  let failed: Error | undefined;
  try {
    await client.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    const anchor = (
      await client.query<{ seq: string; hash: string }>("SELECT seq, hash FROM history_anchor WHERE id = 1")
    ).rows[0];
    const from = anchor ? { seq: Number(anchor.seq), hash: anchor.hash } : { seq: 0, hash: GENESIS_HASH };
    const last = { ...from };
    let checked = 0;
    let firstBreak: ChainBreak | null = null;
    const cursor = client.query(new Cursor<StoredRow>(`SELECT ${STORED_COLUMNS} FROM history_event ORDER BY seq`));
    try {
      scan: for (;;) {
        const rows = await cursor.read(options.batchSize ?? 1000);
        if (rows.length === 0) break;
        for (const row of rows) {
          checked++;
          const seq = Number(row.seq);
          const at = { seq, eventId: row.event_id };
          if (seq !== last.seq + 1) {
            firstBreak = {
              ...at,
              problem: "missing",
              detail: `follows seq ${last.seq}: ${seq - last.seq - 1} row(s) before it are gone`,
            };
          } else if (row.prev_hash !== last.hash) {
            firstBreak = { ...at, problem: "relinked", detail: `prev_hash is not the hash of seq ${last.seq}` };
          } else if (rowHash(row.prev_hash, chainedRowOf(row)) !== row.hash) {
            firstBreak = { ...at, problem: "edited", detail: "its columns do not hash to its hash" };
          }
          if (firstBreak) break scan;
          last.seq = seq;
          last.hash = row.hash;
        }
      }
    } finally {
      await cursor.close();
    }
    await client.query("COMMIT");
    return { ok: firstBreak === null, checked, from, last, firstBreak };
  } catch (err) {
    failed = err instanceof Error ? err : new Error(String(err));
    await client.query("ROLLBACK").catch(() => {});
    throw err;
  } finally {
    release(failed);
  }
}
