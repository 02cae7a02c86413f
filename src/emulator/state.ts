/**
 * In-memory state of the emulator: invitations, connections and remembered
 * ClientTokens.
 *
 * Records are keyed by (Catalog, Identifier), as the service's resources are.
 * Every read returns a deep copy, so neither tests nor HTTP responses can
 * mutate stored state by accident. All mutations are synchronous, which makes
 * each operation atomic with respect to concurrent requests (Node runs one
 * handler body at a time).
 */
import { randomInt } from "node:crypto";
import {
  CONNECTION_TYPES,
  INVITATION_STATUSES,
  type ConnectionRecord,
  type ConnectionType,
  type InvitationRecord,
  type InvitationStatus,
  type SeededInvitation,
  type SeedInvitationInput,
} from "./types.js";
import { PATTERNS } from "./validation.js";
import type { ApiResponse } from "./wire.js";

const ALPHANUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const DAY_MS = 24 * 60 * 60 * 1000;
/** How long a new invitation stays open (ExpiresAt). Not documented by AWS; a plausible value. */
const INVITATION_TTL_MS = 14 * DAY_MS;

/** `prefix` followed by 13 random [A-Za-z0-9], the shape of every id in this API. */
export function newId(prefix: string): string {
  let s = prefix;
  for (let i = 0; i < 13; i++) s += ALPHANUM[randomInt(ALPHANUM.length)];
  return s;
}

function newAccountId(): string {
  let s = String(randomInt(1, 10));
  for (let i = 0; i < 11; i++) s += String(randomInt(10));
  return s;
}

const key = (catalog: string, id: string): string => `${catalog}\u0000${id}`;

export const invitationArn = (catalog: string, id: string): string =>
  `arn:aws:partnercentral:us-east-1::catalog/${catalog}/connection-invitation/${id}`;
export const connectionArn = (catalog: string, id: string): string =>
  `arn:aws:partnercentral:us-east-1::catalog/${catalog}/connection/${id}`;

/** What the connection created on acceptance needs to know about the other side. */
interface InvitationEntry {
  record: InvitationRecord;
  otherAccountId: string;
  partnerProfile: { Id: string; Name: string };
}

/** A successful response remembered for a ClientToken, with the parameters it was made for. */
export interface RememberedToken {
  fingerprint: string;
  response: ApiResponse;
  /** Date.now() when remembered; set by the store. */
  at?: number;
}

export class EmulatorStore {
  /** Remembered tokens older than this (ms) are forgotten; undefined = kept for the store's life. */
  constructor(private readonly tokenTtlMs?: number) {}

  private readonly invitations = new Map<string, InvitationEntry>();
  private readonly connections = new Map<string, ConnectionRecord>();
  private readonly tokens = new Map<string, Map<string, RememberedToken>>();

  clear(): void {
    this.invitations.clear();
    this.connections.clear();
    this.tokens.clear();
  }

  /**
   * Inserts (or replaces) an invitation as seen by its RECEIVER, i.e. the
   * caller that will accept it. Throws a plain Error on malformed input so
   * that test mistakes surface immediately instead of as 400s later.
   */
  seed(input: SeedInvitationInput = {}): SeededInvitation {
    const catalog = input.catalog ?? "AWS";
    if (!PATTERNS.catalog.test(catalog) || catalog.length > 64) throw new Error(`invalid catalog: ${catalog}`);
    const id = input.identifier ?? this.freshId("pacinv-", catalog, this.invitations);
    if (!PATTERNS.invitationId.test(id)) throw new Error(`invalid invitation identifier: ${id}`);
    const status: InvitationStatus = input.status ?? "PENDING";
    if (!INVITATION_STATUSES.includes(status)) throw new Error(`invalid status: ${String(status)}`);
    const type: ConnectionType = input.connectionType ?? "OPPORTUNITY_COLLABORATION";
    if (!CONNECTION_TYPES.includes(type)) throw new Error(`invalid connectionType: ${String(type)}`);
    const otherAccountId = input.otherParticipantAccountId ?? newAccountId();
    if (!PATTERNS.accountId.test(otherAccountId)) throw new Error(`invalid account id: ${otherAccountId}`);

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
      ExpiresAt: new Date(createdMs + INVITATION_TTL_MS).toISOString(),
      OtherParticipantIdentifier: otherAccountId,
      ParticipantType: "RECEIVER",
      Status: "PENDING",
      InvitationMessage: "Let's collaborate on opportunities.",
      InviterEmail: input.inviterEmail ?? "inviter@example.com",
      InviterName: input.inviterName ?? "Emulated Inviter",
    };
    const entry: InvitationEntry = {
      record,
      otherAccountId,
      partnerProfile: { Id: newId("pprofile-"), Name: input.partnerName ?? "Emulated Partner" },
    };
    this.invitations.set(key(catalog, id), entry);
    if (status === "ACCEPTED") this.acceptEntry(entry);
    else record.Status = status;
    return { catalog, identifier: id, status };
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
    this.invitations.set(key(input.Catalog, id), {
      record,
      otherAccountId: PATTERNS.accountId.test(input.ReceiverIdentifier) ? input.ReceiverIdentifier : newAccountId(),
      partnerProfile: { Id: newId("pprofile-"), Name: `Partner ${input.ReceiverIdentifier}` },
    });
    return structuredClone(record);
  }

  getInvitation(catalog: string, id: string): InvitationRecord | undefined {
    const entry = this.invitations.get(key(catalog, id));
    return entry ? structuredClone(entry.record) : undefined;
  }

  getConnection(catalog: string, id: string): ConnectionRecord | undefined {
    const c = this.connections.get(key(catalog, id));
    return c ? structuredClone(c) : undefined;
  }

  /**
   * Moves a PENDING invitation to `to`. Returns undefined if the invitation does
   * not exist and "conflict" if it is not PENDING (state left unchanged).
   */
  transition(
    catalog: string,
    id: string,
    to: "ACCEPTED" | "REJECTED" | "CANCELED",
  ): { invitation: InvitationRecord; connection?: ConnectionRecord } | "conflict" | undefined {
    const entry = this.invitations.get(key(catalog, id));
    if (!entry) return undefined;
    if (entry.record.Status !== "PENDING") return "conflict";
    if (to === "ACCEPTED") {
      const connection = this.acceptEntry(entry);
      return { invitation: structuredClone(entry.record), connection: structuredClone(connection) };
    }
    entry.record.Status = to;
    entry.record.UpdatedAt = new Date().toISOString();
    return { invitation: structuredClone(entry.record) };
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

  /** Marks the invitation ACCEPTED and creates its ACTIVE connection. */
  private acceptEntry(entry: InvitationEntry): ConnectionRecord {
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
          Status: "ACTIVE",
          OtherParticipant: { PartnerProfile: { ...entry.partnerProfile } },
        },
      },
    };
    this.connections.set(key(record.Catalog, id), connection);
    record.Status = "ACCEPTED";
    record.ConnectionId = id;
    record.UpdatedAt = ts;
    return connection;
  }

  private freshId(prefix: string, catalog: string, taken: Map<string, unknown>): string {
    for (;;) {
      const id = newId(prefix);
      if (!taken.has(key(catalog, id))) return id;
    }
  }
}
