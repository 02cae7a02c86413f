/**
 * In-memory state of the emulator: invitations, connections and remembered
 * ClientTokens.
 *
 * Records are keyed by (Catalog, Identifier), as the service's resources are.
 * Every read returns a deep copy, so neither tests nor HTTP responses can
 * mutate stored state by accident. All mutations are synchronous, which makes
 * each operation atomic with respect to concurrent requests (Node runs one
 * handler body at a time).
 *
 * Each record carries a `seq`, increasing in insertion order (a replaced
 * record counts as new). The maps iterate in `seq` order, which is the stable
 * order of the List operations and what their NextToken points into.
 * Every acceptance creates its own connection (AWS may instead add the type
 * to an existing connection with the same partner; the emulator does not).
 */
import { connectionArn, invitationArn, newAccountId, newId } from "./ids.js";
import {
  CONNECTION_TYPE_STATUSES,
  CONNECTION_TYPES,
  INVITATION_STATUSES,
  PARTICIPANT_KINDS,
  PARTICIPANT_TYPES,
  type ConnectionRecord,
  type ConnectionType,
  type ConnectionTypeStatus,
  type InvitationRecord,
  type InvitationStatus,
  type Participant,
  type ParticipantKind,
  type SeededInvitationDetail,
  type SeedInvitationInput,
} from "./types.js";
import { PATTERNS } from "./validation.js";
import type { ApiResponse } from "./wire.js";
import type { InvitationChange } from "./events.js";

const DAY_MS = 24 * 60 * 60 * 1000;
/** How long a new invitation stays open (ExpiresAt). Not documented by AWS; a plausible value. */
const INVITATION_TTL_MS = 14 * DAY_MS;

const key = (catalog: string, id: string): string => `${catalog}\u0000${id}`;

/** What the connection created on acceptance needs to know about the other side. */
interface InvitationEntry {
  seq: number;
  record: InvitationRecord;
  otherAccountId: string;
  otherParticipant: Participant;
}

interface ConnectionEntry {
  seq: number;
  record: ConnectionRecord;
}

/** A stored record with its position in the stable list order. */
export interface Listed<T> {
  seq: number;
  record: T;
}

/** A successful response remembered for a ClientToken, with the parameters it was made for. */
export interface RememberedToken {
  fingerprint: string;
  response: ApiResponse;
  /** Date.now() when remembered; set by the store. */
  at?: number;
}

function otherParticipantOf(kind: ParticipantKind, id: string | undefined, name: string): Participant {
  if (kind === "Account") return { Account: { Name: name } };
  if (kind === "SellerProfile") {
    const sellerId = id ?? newId("seller-");
    if (!PATTERNS.sellerProfileId.test(sellerId)) throw new Error(`invalid seller profile id: ${sellerId}`);
    return { SellerProfile: { Id: sellerId, Name: name } };
  }
  const profileId = id ?? newId("pprofile-");
  if (!/^pprofile-[A-Za-z0-9]{13}$/.test(profileId)) throw new Error(`invalid partner profile id: ${profileId}`);
  return { PartnerProfile: { Id: profileId, Name: name } };
}

function check<T extends string>(name: string, value: T, allowed: readonly string[]): T {
  if (!allowed.includes(value)) throw new Error(`invalid ${name}: ${String(value)}`);
  return value;
}

export class EmulatorStore {
  /** Remembered tokens older than this (ms) are forgotten; undefined = kept for the store's life. */
  constructor(private readonly tokenTtlMs?: number) {}

  /** Told of every invitation received (seeded PENDING as RECEIVER) and every move out of PENDING. */
  onChange?: (change: InvitationChange) => void;

  private readonly invitations = new Map<string, InvitationEntry>();
  private readonly connections = new Map<string, ConnectionEntry>();
  private readonly tokens = new Map<string, Map<string, RememberedToken>>();
  private seq = 0;

  clear(): void {
    this.invitations.clear();
    this.connections.clear();
    this.tokens.clear();
    this.seq = 0;
  }

  /**
   * Inserts (or replaces) an invitation as seen by the emulated caller
   * (RECEIVER unless `participantType` says otherwise). Throws a plain Error
   * on malformed input so that test mistakes surface immediately instead of
   * as 400s later.
   */
  seed(input: SeedInvitationInput = {}): SeededInvitationDetail {
    const catalog = input.catalog ?? "AWS";
    if (!PATTERNS.catalog.test(catalog) || catalog.length > 64) throw new Error(`invalid catalog: ${catalog}`);
    const id = input.identifier ?? this.freshId("pacinv-", catalog, this.invitations);
    if (!PATTERNS.invitationId.test(id)) throw new Error(`invalid invitation identifier: ${id}`);
    const status = check<InvitationStatus>("status", input.status ?? "PENDING", INVITATION_STATUSES);
    const type = check<ConnectionType>(
      "connectionType",
      input.connectionType ?? "OPPORTUNITY_COLLABORATION",
      CONNECTION_TYPES,
    );
    const side = check("participantType", input.participantType ?? "RECEIVER", PARTICIPANT_TYPES);
    const kind = check<ParticipantKind>(
      "otherParticipantKind",
      input.otherParticipantKind ?? "PartnerProfile",
      PARTICIPANT_KINDS,
    );
    const typeStatus = check<ConnectionTypeStatus>(
      "connectionStatus",
      input.connectionStatus ?? "ACTIVE",
      CONNECTION_TYPE_STATUSES,
    );
    const otherAccountId = input.otherParticipantAccountId ?? newAccountId();
    if (!PATTERNS.accountId.test(otherAccountId)) throw new Error(`invalid account id: ${otherAccountId}`);
    const inviterEmail = input.inviterEmail ?? `inviter@${input.emailDomain ?? "example.com"}`;
    if (!PATTERNS.email.test(inviterEmail)) throw new Error(`invalid inviter email: ${inviterEmail}`);

    const nowMs = Date.now();
    // An EXPIRED invitation was created long enough ago for its ExpiresAt to be in the past.
    const createdMs = status === "EXPIRED" ? nowMs - INVITATION_TTL_MS - DAY_MS : nowMs;
    const created = new Date(createdMs).toISOString();
    const record: InvitationRecord = {
      Catalog: catalog,
      Id: id,
      Arn: invitationArn(catalog, id),
      ConnectionType: type,
      CreatedAt: created,
      UpdatedAt: status === "EXPIRED" ? new Date(createdMs + INVITATION_TTL_MS).toISOString() : created,
      ExpiresAt: expiresAtOf(input.expiresAt, createdMs),
      OtherParticipantIdentifier: otherAccountId,
      ParticipantType: side,
      Status: "PENDING",
      InvitationMessage: "Let's collaborate on opportunities.",
      InviterEmail: inviterEmail,
      InviterName: input.inviterName ?? "Emulated Inviter",
    };
    const entry: InvitationEntry = {
      seq: 0,
      record,
      otherAccountId,
      otherParticipant: otherParticipantOf(kind, input.partnerProfileId, input.partnerName ?? "Emulated Partner"),
    };
    this.insert(this.invitations, key(catalog, id), entry);
    if (status === "ACCEPTED") this.acceptEntry(entry, typeStatus);
    else record.Status = status;
    if (status === "PENDING" && side === "RECEIVER") this.changed(entry, "PENDING");
    return {
      catalog,
      identifier: id,
      status,
      connectionType: type,
      participantType: side,
      otherParticipantIdentifier: otherAccountId,
      inviterEmail,
    };
  }

  /** CreateConnectionInvitation: the caller is the SENDER; input was validated already. */
  create(input: {
    Catalog: string;
    ConnectionType: ConnectionType;
    Email: string;
    Message: string;
    Name: string;
    ReceiverIdentifier: string;
  }): InvitationRecord {
    const id = this.freshId("pacinv-", input.Catalog, this.invitations);
    const nowMs = Date.now();
    const created = new Date(nowMs).toISOString();
    const record: InvitationRecord = {
      Catalog: input.Catalog,
      Id: id,
      Arn: invitationArn(input.Catalog, id),
      ConnectionType: input.ConnectionType,
      CreatedAt: created,
      UpdatedAt: created,
      ExpiresAt: new Date(nowMs + INVITATION_TTL_MS).toISOString(),
      OtherParticipantIdentifier: input.ReceiverIdentifier,
      ParticipantType: "SENDER",
      Status: "PENDING",
      InvitationMessage: input.Message,
      InviterEmail: input.Email,
      InviterName: input.Name,
    };
    this.insert(this.invitations, key(input.Catalog, id), {
      seq: 0,
      record,
      otherAccountId: PATTERNS.accountId.test(input.ReceiverIdentifier) ? input.ReceiverIdentifier : newAccountId(),
      otherParticipant: { PartnerProfile: { Id: newId("pprofile-"), Name: `Partner ${input.ReceiverIdentifier}` } },
    });
    return structuredClone(record);
  }

  getInvitation(catalog: string, id: string): InvitationRecord | undefined {
    const entry = this.invitations.get(key(catalog, id));
    return entry ? structuredClone(entry.record) : undefined;
  }

  getConnection(catalog: string, id: string): ConnectionRecord | undefined {
    const c = this.connections.get(key(catalog, id));
    return c ? structuredClone(c.record) : undefined;
  }

  /** Invitations of one catalog in list order, each after `afterSeq`, that satisfy `keep`; copies. */
  *invitationsOf(
    catalog: string,
    afterSeq: number,
    keep: (r: InvitationRecord) => boolean,
  ): Generator<Listed<InvitationRecord>> {
    for (const e of this.invitations.values()) {
      if (e.seq > afterSeq && e.record.Catalog === catalog && keep(e.record)) {
        yield { seq: e.seq, record: structuredClone(e.record) };
      }
    }
  }

  /**
   * Cancels a connection's types (one, or all), as CancelConnection would on either side: each
   * becomes CANCELED with CanceledAt and CanceledBy (`canceledBy`: the other participant's account,
   * by default). Returns the connection after, or undefined when there is none.
   */
  cancelConnection(
    catalog: string,
    id: string,
    options: { connectionType?: ConnectionType; canceledBy?: string } = {},
  ): ConnectionRecord | undefined {
    const entry = this.connections.get(key(catalog, id));
    if (!entry) return undefined;
    const ts = new Date().toISOString();
    for (const [type, detail] of Object.entries(entry.record.ConnectionTypes)) {
      if (!detail || (options.connectionType !== undefined && type !== options.connectionType)) continue;
      detail.Status = "CANCELED";
      detail.CanceledAt = ts;
      detail.CanceledBy = options.canceledBy ?? entry.record.OtherParticipantAccountId;
    }
    entry.record.UpdatedAt = ts;
    return structuredClone(entry.record);
  }

  /** Connections of one catalog in list order, each after `afterSeq`, that satisfy `keep`; copies. */
  *connectionsOf(
    catalog: string,
    afterSeq: number,
    keep: (r: ConnectionRecord) => boolean,
  ): Generator<Listed<ConnectionRecord>> {
    for (const e of this.connections.values()) {
      if (e.seq > afterSeq && e.record.Catalog === catalog && keep(e.record)) {
        yield { seq: e.seq, record: structuredClone(e.record) };
      }
    }
  }

  /**
   * Moves a PENDING invitation to `to`. Returns undefined if the invitation does
   * not exist, and `{ conflict: status }` if it is not PENDING (state left unchanged).
   */
  transition(
    catalog: string,
    id: string,
    to: "ACCEPTED" | "REJECTED" | "CANCELED" | "EXPIRED",
  ): { invitation: InvitationRecord; connection?: ConnectionRecord } | { conflict: InvitationStatus } | undefined {
    const entry = this.invitations.get(key(catalog, id));
    if (!entry) return undefined;
    if (entry.record.Status !== "PENDING") return { conflict: entry.record.Status };
    if (to === "ACCEPTED") {
      const connection = this.acceptEntry(entry, "ACTIVE");
      this.changed(entry, "ACCEPTED", connection);
      return { invitation: structuredClone(entry.record), connection: structuredClone(connection) };
    }
    entry.record.Status = to;
    entry.record.UpdatedAt = new Date().toISOString();
    this.changed(entry, to);
    return { invitation: structuredClone(entry.record) };
  }

  private changed(entry: InvitationEntry, to: InvitationChange["to"], connection?: ConnectionRecord): void {
    this.onChange?.({
      to,
      invitation: structuredClone(entry.record),
      ...(connection ? { connection: structuredClone(connection) } : {}),
      otherAccountId: entry.otherAccountId,
      otherParticipant: structuredClone(entry.otherParticipant),
    });
  }

  /** The remembered successful response for (operation, token), if any. */
  recallToken(operation: string, token: string): RememberedToken | undefined {
    const remembered = this.tokens.get(operation)?.get(token);
    if (remembered && this.tokenTtlMs !== undefined && Date.now() - (remembered.at ?? 0) > this.tokenTtlMs) {
      this.tokens.get(operation)!.delete(token);
      return undefined;
    }
    return remembered;
  }

  rememberToken(operation: string, token: string, remembered: RememberedToken): void {
    let perOp = this.tokens.get(operation);
    if (!perOp) this.tokens.set(operation, (perOp = new Map()));
    perOp.set(token, { ...structuredClone(remembered), at: Date.now() });
  }

  /** Marks the invitation ACCEPTED and creates its connection (one type, `typeStatus`). */
  private acceptEntry(entry: InvitationEntry, typeStatus: ConnectionTypeStatus): ConnectionRecord {
    const { record } = entry;
    const ts = new Date().toISOString();
    const id = this.freshId("pac-", record.Catalog, this.connections);
    const connection: ConnectionRecord = {
      Catalog: record.Catalog,
      Id: id,
      Arn: connectionArn(record.Catalog, id),
      OtherParticipantAccountId: entry.otherAccountId,
      UpdatedAt: ts,
      ConnectionTypes: {
        [record.ConnectionType]: {
          CreatedAt: ts,
          InviterEmail: record.InviterEmail,
          InviterName: record.InviterName,
          Status: typeStatus,
          // A seeded CANCELED type was canceled by the other side.
          ...(typeStatus === "CANCELED" ? { CanceledAt: ts, CanceledBy: entry.otherAccountId } : {}),
          OtherParticipant: structuredClone(entry.otherParticipant),
        },
      },
    };
    this.insert(this.connections, key(record.Catalog, id), { seq: 0, record: connection });
    record.Status = "ACCEPTED";
    record.ConnectionId = id;
    record.UpdatedAt = ts;
    return connection;
  }

  /** Re-inserting moves a replaced record to the end, so map order stays `seq` order. */
  private insert<E extends { seq: number }>(map: Map<string, E>, k: string, entry: E): void {
    entry.seq = ++this.seq;
    map.delete(k);
    map.set(k, entry);
  }

  private freshId(prefix: string, catalog: string, taken: Map<string, unknown>): string {
    for (;;) {
      const id = newId(prefix);
      if (!taken.has(key(catalog, id))) return id;
    }
  }
}

/** A seeded invitation's ExpiresAt: the one given (checked), or CreatedAt plus INVITATION_TTL_MS. */
function expiresAtOf(given: string | undefined, createdMs: number): string {
  if (given === undefined) return new Date(createdMs + INVITATION_TTL_MS).toISOString();
  const ms = Date.parse(given);
  if (!Number.isFinite(ms)) throw new Error(`invalid expiresAt: ${given}`);
  return new Date(ms).toISOString();
}
