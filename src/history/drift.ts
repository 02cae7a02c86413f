import Cursor from "pg-cursor";
import type { InvitationApi } from "../aws/invitation-api.js";
import { checkOut, type HistoryPool } from "./pool.js";

/** A connection AWS lists as active that the history has no event of: made outside the desk. */
export interface OutsideConnection {
  connectionId: string;
  otherParticipantAccountId: string | null;
  /** Per connection type, its status. */
  connectionTypes: Record<string, string>;
  updatedAt: string | null;
}

/** A connection the history recorded (an accepted outcome) that AWS no longer lists as active. */
export interface InactiveConnection {
  connectionId: string;
  catalog: string;
  identifier: string | null;
  requestId: string | null;
  partner: string | null;
  /** When the desk's outcome named it. */
  acceptedAt: string;
  /** From GetConnection: CANCELED (no type left ACTIVE), NOT_FOUND, or a status AWS adds later. */
  status: string;
  /** Per connection type: status, and for a canceled one when and by which account. */
  connectionTypes: Record<string, { status: string; canceledAt: string | null; canceledBy: string | null }>;
  /** true: the other participant canceled (CanceledBy is its account); false: another account did
   * (ours); null: AWS did not say. */
  canceledByOtherSide: boolean | null;
}

/** A connection the history holds a `connection.canceled` notice of (the other side canceled it; docs/events.md). */
export interface CanceledConnectionNote {
  connectionId: string;
  partner: string | null;
  canceledBy: string | null;
  /** When the intake noted the event. */
  notedAt: string;
}

export interface DriftReport {
  catalog: string;
  /** Active connections AWS listed. */
  listed: number;
  /** Connections the history holds for this catalog (checked against the list). */
  inHistory: number;
  outsideDesk: OutsideConnection[];
  noLongerActive: InactiveConnection[];
  /** Connections the history knows were canceled by the other side (connection.canceled notices). */
  canceledNoted: CanceledConnectionNote[];
  /** True when a bound stopped the look: maxPages of ListConnections, or maxChecks GetConnection calls. */
  truncated: boolean;
}

export interface DriftOptions {
  catalog: string;
  /** ListConnections pages at most (100 connections each). @defaultValue 100 */
  maxPages?: number;
  /** GetConnection calls at most (one per connection in history not listed as active). @defaultValue 500 */
  maxChecks?: number;
  signal?: AbortSignal;
}

const isActive = (typeStatuses: Record<string, string>) => Object.values(typeStatuses).includes("ACTIVE");

/**
 * Compares AWS's connections with the history, for one catalog:
 * - outside the desk: listed ACTIVE by ListConnections, with no event of the history naming it;
 * - no longer active: named by an accepted outcome in the history, not listed as active; one
 *   GetConnection each says whether it was canceled, when, and whether by the other side.
 * Every call goes through `api` (the caller paces it with the shared limit). Memory: the set of
 * active connection ids; the history is read through a cursor. Bounded by maxPages and maxChecks.
 */
export async function findDrift(
  api: Pick<InvitationApi, "listConnections" | "getConnection">,
  pool: HistoryPool,
  options: DriftOptions,
): Promise<DriftReport> {
  const { catalog, signal } = options;
  const callOptions = signal ? { signal } : {};
  const maxPages = options.maxPages ?? 100;
  const maxChecks = options.maxChecks ?? 500;
  const report: DriftReport = {
    catalog,
    listed: 0,
    inHistory: 0,
    outsideDesk: [],
    noLongerActive: [],
    canceledNoted: [],
    truncated: false,
  };

  const active = new Set<string>();
  let nextToken: string | undefined;
  for (let page = 0; ; page++) {
    if (page === maxPages) {
      report.truncated = true;
      break;
    }
    signal?.throwIfAborted();
    const out = await api.listConnections(
      { catalog, maxResults: 100, ...(nextToken ? { nextToken } : {}) },
      callOptions,
    );
    const listed = out.connections.filter((c) => isActive(c.typeStatuses));
    for (const c of listed) active.add(c.id);
    report.listed += listed.length;
    if (listed.length > 0) {
      const known = await pool.query<{ connection_id: string }>(
        "SELECT DISTINCT connection_id FROM history_event WHERE connection_id = ANY($1::text[])",
        [listed.map((c) => c.id)],
      );
      const recorded = new Set(known.rows.map((r) => r.connection_id));
      for (const c of listed) {
        if (!recorded.has(c.id)) {
          report.outsideDesk.push({
            connectionId: c.id,
            otherParticipantAccountId: c.otherParticipantAccountId ?? null,
            connectionTypes: c.typeStatuses,
            updatedAt: c.updatedAt,
          });
        }
      }
    }
    if (!out.nextToken) break;
    nextToken = out.nextToken;
  }

  const { client, release } = await checkOut(pool);
  let failed: Error | undefined;
  const cursor = client.query(
    new Cursor<{
      connection_id: string;
      identifier: string | null;
      request_id: string | null;
      partner: string | null;
      occurred_at: Date;
    }>(
      "SELECT DISTINCT ON (connection_id) connection_id, identifier, request_id, partner, occurred_at " +
        "FROM history_event WHERE catalog = $1 AND connection_id IS NOT NULL AND type = 'accepted' " +
        "ORDER BY connection_id, seq DESC",
      [catalog],
    ),
  );
  let checks = 0;
  try {
    scan: for (;;) {
      const rows = await cursor.read(500);
      if (rows.length === 0) break;
      for (const row of rows) {
        report.inHistory++;
        if (active.has(row.connection_id)) continue;
        if (checks === maxChecks) {
          report.truncated = true;
          break scan;
        }
        checks++;
        signal?.throwIfAborted();
        // ACTIVE after all: listed on a page past maxPages, or reactivated since the list was read.
        const found = await inspect(api, catalog, row, callOptions);
        if (found.status !== "ACTIVE") report.noLongerActive.push(found);
      }
    }
  } catch (err) {
    failed = err instanceof Error ? err : new Error(String(err));
    throw err;
  } finally {
    await cursor.close().catch(() => {});
    release(failed);
  }
  // Bounded like the checks: at most maxChecks notes.
  const noted = await pool.query<{ connection_id: string; partner: string | null; body: string; occurred_at: Date }>(
    "SELECT DISTINCT ON (connection_id) connection_id, partner, body, occurred_at FROM history_event " +
      "WHERE catalog = $1 AND connection_id IS NOT NULL AND type = 'connection.canceled' " +
      "ORDER BY connection_id, seq DESC LIMIT $2",
    [catalog, maxChecks + 1],
  );
  if (noted.rows.length > maxChecks) report.truncated = true;
  for (const row of noted.rows.slice(0, maxChecks)) {
    let canceledBy: string | null = null;
    try {
      const body = JSON.parse(row.body) as { canceledBy?: unknown };
      if (typeof body.canceledBy === "string") canceledBy = body.canceledBy;
    } catch {
      // a body that is not JSON: canceledBy unknown
    }
    report.canceledNoted.push({
      connectionId: row.connection_id,
      partner: row.partner,
      canceledBy,
      notedAt: new Date(row.occurred_at).toISOString(),
    });
  }
  return report;
}

async function inspect(
  api: Pick<InvitationApi, "getConnection">,
  catalog: string,
  row: {
    connection_id: string;
    identifier: string | null;
    request_id: string | null;
    partner: string | null;
    occurred_at: Date;
  },
  callOptions: { signal?: AbortSignal },
): Promise<InactiveConnection> {
  const base = {
    connectionId: row.connection_id,
    catalog,
    identifier: row.identifier,
    requestId: row.request_id,
    partner: row.partner,
    acceptedAt: row.occurred_at.toISOString(),
  };
  try {
    const { connection } = await api.getConnection({ catalog, connectionId: row.connection_id }, callOptions);
    const types = (connection.ConnectionTypes ?? {}) as Record<string, Record<string, unknown>>;
    const connectionTypes = Object.fromEntries(
      Object.entries(types).map(([type, detail]) => [
        type,
        {
          status: String(detail.Status),
          canceledAt: typeof detail.CanceledAt === "string" ? detail.CanceledAt : null,
          canceledBy: typeof detail.CanceledBy === "string" ? detail.CanceledBy : null,
        },
      ]),
    );
    const statuses = Object.values(connectionTypes).map((t) => t.status);
    const cancelers = Object.values(connectionTypes).flatMap((t) => (t.canceledBy ? [t.canceledBy] : []));
    const other = connection.OtherParticipantAccountId as string | undefined;
    return {
      ...base,
      status: statuses.includes("ACTIVE")
        ? "ACTIVE"
        : statuses.includes("CANCELED")
          ? "CANCELED"
          : (statuses[0] ?? "UNKNOWN"),
      connectionTypes,
      canceledByOtherSide: cancelers.length === 0 || !other ? null : cancelers.includes(other),
    };
  } catch (err) {
    if ((err as { name?: unknown }).name === "ResourceNotFoundException") {
      return { ...base, status: "NOT_FOUND", connectionTypes: {}, canceledByOtherSide: null };
    }
    throw err;
  }
}
