/**
 * Public types of the Partner Central Account emulator.
 *
 * Wire-shaped records (`InvitationRecord`, `ConnectionRecord`) use the exact
 * PascalCase member names of the awsJson1_0 protocol, so they can be written
 * to the socket unchanged and compared directly with what the SDK parses.
 * All timestamps are RFC 3339 strings: the SDK rejects epoch numbers for this
 * service (`@timestampFormat("date-time")`).
 */

/** Values of the `InvitationStatus` enum. */
export const INVITATION_STATUSES = ["PENDING", "ACCEPTED", "REJECTED", "CANCELED", "EXPIRED"] as const;
export type InvitationStatus = (typeof INVITATION_STATUSES)[number];

/** Values of the `ConnectionType` enum (also the keys of `ConnectionTypes`). */
export const CONNECTION_TYPES = ["OPPORTUNITY_COLLABORATION", "SUBSIDIARY"] as const;
export type ConnectionType = (typeof CONNECTION_TYPES)[number];

/** Values of the `ParticipantType` enum: which side of the invitation the caller is on. */
export const PARTICIPANT_TYPES = ["SENDER", "RECEIVER"] as const;
export type ParticipantType = (typeof PARTICIPANT_TYPES)[number];

/** Values of the `ConnectionTypeStatus` enum. */
export const CONNECTION_TYPE_STATUSES = ["ACTIVE", "CANCELED"] as const;
export type ConnectionTypeStatus = (typeof CONNECTION_TYPE_STATUSES)[number];

/** Members of the `Participant` union (the other side of a connection type). */
export const PARTICIPANT_KINDS = ["PartnerProfile", "SellerProfile", "Account"] as const;
export type ParticipantKind = (typeof PARTICIPANT_KINDS)[number];

/** The `Participant` union: exactly one member is set. */
export type Participant =
  | { PartnerProfile: { Id: string; Name: string } }
  | { SellerProfile: { Id: string; Name: string } }
  | { Account: { Name: string } };

/**
 * Options fixed at start. The fault knobs can be changed later with `setFaults`,
 * the switches (see `EmulatorSwitches`) with `setSwitches`.
 */
export interface EmulatorOptions extends EmulatorSwitches {
  /** TCP port; default 0 (the OS picks a free port). */
  port?: number;
  /** Bind address; default 127.0.0.1. */
  host?: string;
  /**
   * If set, more than N admitted Accept/Get requests (AcceptConnectionInvitation,
   * GetConnectionInvitation, GetConnection, one shared budget) within any sliding
   * 1 s window are answered 429 ThrottlingException. Only admitted requests (those
   * that passed this gate) count, so a client that backs off regains capacity after
   * at most 1 s. Scripted failures are decided before this gate and are not counted.
   */
  throttleAboveRps?: number;
  /** Fraction 0..1 of API requests answered 500 InternalServerException, before any state change. */
  errorRate?: number;
  /**
   * Fraction 0..1 of Accept/Get requests answered ThrottlingException whatever the caller's rate:
   * throttles caused by someone else's traffic on the same account (§6), which slowing down does
   * not reduce. Decided after `throttleAboveRps`, before `errorRate`.
   */
  throttleRate?: number;
  /** Latency in ms added before answering every API request (control plane excluded). */
  latencyMs?: number;
  /** RNG used for `errorRate` and `throttleRate`; default Math.random. */
  random?: () => number;
  /** Remembered ClientTokens are forgotten after this many ms (AWS's tokens expire too); default never. */
  clientTokenTtlMs?: number;
  /**
   * An SQS queue URL (a local SQS-compatible server): the emulator sends Partner Central's events
   * there as its invitations are received, accepted, rejected, canceled or expire (events.ts).
   * Unset: events are kept for GET /_emulator/events only.
   */
  eventsQueueUrl?: string;
  /** The emulated caller's account id, in the events' `account`; default 111122223333. */
  accountId?: string;
}

/** Values of `ConflictExceptionReason` (npm 3.1086.0 plus the newer model's addition; reference §3.3). */
export const CONFLICT_REASONS = [
  "CONFLICT_CLIENT_TOKEN",
  "DUPLICATE_PARTNER",
  "INCOMPATIBLE_PROFILE_STATE",
  "INCOMPATIBLE_PARTNER_PROFILE_TASK_STATE",
  "DUPLICATE_CONNECTION_INVITATION",
  "INCOMPATIBLE_CONNECTION_INVITATION_STATE",
  "INCOMPATIBLE_CONNECTION_INVITATION_RECEIVER",
  "DUPLICATE_CONNECTION",
  "INCOMPATIBLE_CONNECTION_STATE",
  "INCOMPATIBLE_CONNECTION_PREFERENCES_REVISION",
  "ACCOUNT_ALREADY_VERIFIED",
  "VERIFICATION_ALREADY_IN_PROGRESS",
  "INCOMPATIBLE_QUALIFICATIONS_ASSOCIATION_TASK_STATE",
] as const;
export type ConflictReason = (typeof CONFLICT_REASONS)[number];

/**
 * Switches: each selects one answer that the AWS model (or AWS's front door)
 * allows but a client might not expect. All are off by default, which keeps
 * the emulator's original answers. Set at start (as options) or at run time
 * (`setSwitches`, `POST /_emulator/switches`); docs/emulator.md has one
 * example each.
 */
export interface EmulatorSwitches {
  /**
   * Optional output members to leave out, per operation, e.g.
   * `{ GetConnectionInvitation: ["ConnectionId"] }`. Names are dotted paths
   * (`ConnectionInvitationSummaries.*.ConnectionId`) or their last segment when
   * that is unambiguous; only members the model marks optional are accepted.
   */
  omitOutputFields?: Record<string, string[]>;
  /**
   * `Reason` of the ConflictException for Accept/Reject/Cancel of an
   * invitation that is not PENDING: one reason for every status, or one per
   * status (statuses not listed keep INCOMPATIBLE_CONNECTION_INVITATION_STATE).
   */
  stateConflictReason?: ConflictReason | Partial<Record<InvitationStatus, ConflictReason>>;
  /** Where the error type travels: body `__type` (default), the `x-amzn-ErrorType` header only, or both. */
  errorTypeLocation?: "body" | "header" | "both";
  /**
   * Spelling of the error type: `namespace#Name` (default), bare `Name`, or
   * Coral's `Name:http://internal.amazon.com/coral/namespace/`.
   */
  errorTypeFormat?: "namespaced" | "bare" | "coral";
  /** Namespace of modelled errors; default "com.amazonaws.partnercentralaccount". */
  errorNamespace?: string;
  /** HTTP status of every ThrottlingException: 429 (the model's @httpError, default) or 400 (AWS's common-errors
   * table). */
  throttleStatus?: 400 | 429;
  /** `Retry-After` (seconds) on the answers of the `throttleAboveRps` gate. */
  throttleRetryAfterSeconds?: number;
  /** 5xx answers carry no body (and no error type), as from a load balancer. */
  emptyServerErrorBodies?: boolean;
  /** Accept the request and never answer: true for every operation, or a list of operation names. */
  hang?: boolean | string[];
  /** Offset (ms) of the emulator's clock from the machine's; the `Date` header of API answers follows it. */
  clockOffsetMs?: number;
  /** Missing Authorization → MissingAuthenticationTokenException; malformed → IncompleteSignatureException. */
  requireSignature?: boolean;
  /** If set, any other access key id (or none) → UnrecognizedClientException. */
  knownAccessKeyIds?: string[];
  /** Session tokens (X-Amz-Security-Token) answered ExpiredTokenException; "all" = any session token. */
  expiredSessionTokens?: "all" | string[];
  /**
   * If set, an X-Amz-Date more than this many seconds from the emulator's
   * clock → InvalidSignatureException "Signature expired" (AWS allows 300).
   */
  maxClockSkewSeconds?: number;
  /** HTTP status of those signature errors: 403 (default, AWS's common-errors table) or 400 (older awsJson services).
   * */
  authErrorStatus?: 400 | 403;
  /**
   * ListConnections lists only connections with at least one ACTIVE type, as AWS's documentation
   * words it ("Lists active connections…"); by default it lists them whatever their status.
   */
  listConnectionsActiveOnly?: boolean;
  /**
   * Both List operations answer NextTokens that never end the listing, as a faulty service could:
   * `same` answers a page asked for with a NextToken with that same NextToken again (the page after
   * the first repeats for ever); `wrap` answers the last page with a NextToken back to the first,
   * so the listing goes round and its tokens come again, each after the whole round.
   */
  repeatNextToken?: "same" | "wrap";
}

/** The fault knobs that can be changed at run time. */
export type FaultSettings = Pick<EmulatorOptions, "throttleAboveRps" | "errorRate" | "throttleRate" | "latencyMs">;

export interface SeedInvitationInput {
  /** Default "AWS". */
  catalog?: string;
  /** Which side the emulated caller is on; default RECEIVER (an invitation to accept). */
  participantType?: ParticipantType;
  /** Must match `^pacinv-[A-Za-z0-9]{13}$`; generated if absent. An existing record is replaced. */
  identifier?: string;
  /** Default PENDING; ACCEPTED also creates the connection. */
  status?: InvitationStatus;
  /** Default OPPORTUNITY_COLLABORATION. */
  connectionType?: ConnectionType;
  /** Default "Emulated Inviter". */
  inviterName?: string;
  /** Default `inviter@<emailDomain>`. */
  inviterEmail?: string;
  /** Domain of the default `inviterEmail`; default "example.com". */
  emailDomain?: string;
  /** Extension: name of the inviting partner's profile. Default "Emulated Partner". */
  partnerName?: string;
  /** Extension: 12-digit account id of the inviter (`OtherParticipantIdentifier`). Generated if absent. */
  otherParticipantAccountId?: string;
  /** Id of the other side's profile (`pprofile-…` for PartnerProfile, `^[a-zA-Z0-9-]+$` for SellerProfile). Generated
   * if absent. */
  partnerProfileId?: string;
  /** Which `Participant` union member describes the other side in the connection; default PartnerProfile. */
  otherParticipantKind?: ParticipantKind;
  /** For ACCEPTED only: status of the connection type; CANCELED also sets CanceledAt/CanceledBy. Default ACTIVE. */
  connectionStatus?: ConnectionTypeStatus;
  /** Extension: the invitation's ExpiresAt (ISO-8601). Default: CreatedAt plus the emulator's invitation lifetime. */
  expiresAt?: string;
}

/** One of the other partners that `seedInvitations` spreads invitations over. */
export interface SeedParticipant {
  /** 12-digit AWS account id, the `OtherParticipantIdentifier` of its invitations. */
  accountId: string;
  /** Profile name (the `Participant`'s Name). */
  name: string;
  /** Domain of its inviters' email addresses. */
  emailDomain: string;
  /** Profile id; generated per invitation if absent. */
  profileId?: string;
  /** Inviter name; default "Inviter at <name>". */
  inviterName?: string;
  /** Default PartnerProfile. */
  kind?: ParticipantKind;
}

/**
 * `seedInvitations(n, input)`: each invitation takes every field pinned in
 * `input`; the others are spread, mixed-radix, over the lists below, so the
 * first (product of list sizes) invitations cover every combination once.
 * Fastest-varying first: statuses, catalogs, connectionTypes, participants;
 * email domains follow the participant unless `emailDomains` is given.
 */
export interface SeedManyInput extends Omit<SeedInvitationInput, "identifier"> {
  /** Catalogs to spread over when `catalog` is not pinned; default ["AWS"]. */
  catalogs?: string[];
  /** Statuses to spread over when `status` is not pinned; default ["PENDING"]. */
  statuses?: InvitationStatus[];
  /** Types to spread over when `connectionType` is not pinned; default both. */
  connectionTypes?: ConnectionType[];
  /** The other partners: a count taken from the built-in list, or explicit entries; default 4. */
  participants?: number | SeedParticipant[];
  /** Email domains to spread over (independently of participants) when neither `emailDomain` nor `inviterEmail` is
   * pinned. */
  emailDomains?: string[];
}

export interface SeededInvitation {
  catalog: string;
  identifier: string;
  status: string;
}

/** What the seeding methods return: a `SeededInvitation` plus what was spread or defaulted. */
export interface SeededInvitationDetail extends SeededInvitation {
  connectionType: ConnectionType;
  participantType: ParticipantType;
  /** The other side's account id (`OtherParticipantIdentifier`). */
  otherParticipantIdentifier: string;
  inviterEmail: string;
}

/** Full invitation record, as returned by Get/Create/Reject/CancelConnectionInvitation. */
export interface InvitationRecord {
  Catalog: string;
  Id: string;
  Arn: string;
  ConnectionId?: string;
  ConnectionType: ConnectionType;
  CreatedAt: string;
  UpdatedAt: string;
  ExpiresAt?: string;
  OtherParticipantIdentifier: string;
  ParticipantType: ParticipantType;
  Status: InvitationStatus;
  InvitationMessage: string;
  InviterEmail: string;
  InviterName: string;
}

export interface ConnectionTypeDetail {
  CreatedAt: string;
  InviterEmail: string;
  InviterName: string;
  Status: ConnectionTypeStatus;
  CanceledAt?: string;
  CanceledBy?: string;
  OtherParticipant: Participant;
}

/** The `Connection` structure (Accept output, and GetConnection output at top level). */
export interface ConnectionRecord {
  Catalog: string;
  Id: string;
  Arn: string;
  OtherParticipantAccountId: string;
  UpdatedAt: string;
  ConnectionTypes: Partial<Record<ConnectionType, ConnectionTypeDetail>>;
}

/**
 * One API request as the emulator saw it. Recorded on arrival (so `seq` is
 * arrival order) and completed before the response is written, so a client that
 * has received its response always finds the final `status` here.
 */
export interface RecordedCall {
  seq: number;
  /** Date.now() in ms when the request arrived. */
  at: number;
  /** Operation name without the `PartnerCentralAccount.` prefix (raw target if it had no such prefix). */
  operation: string;
  /** Parsed JSON body ({} if it could not be parsed). */
  input: Record<string, unknown>;
  /** HTTP status sent; 0 while in flight or when the socket was reset without a response. */
  status: number;
  /** Short error name (e.g. "ConflictException", "ServiceUnavailable", "ConnectionReset"). */
  errorType?: string;
  reason?: string;
  clientToken?: string;
  identifier?: string;
  catalog?: string;
  /** Extension: true when a stored response was replayed for a repeated ClientToken. */
  replayed?: boolean;
  /** Extension: value of the `x-amzn-RequestId` response header. */
  requestId?: string;
}

/**
 * The answers of AWS's front door (signature.ts) a script can give as well: what a worker meets when
 * its session token expires, its key is deactivated or a proxy mangles its signature between two
 * calls, which the switches (on for every call) cannot place.
 */
export const FRONT_DOOR_ERROR_NAMES = [
  "MissingAuthenticationTokenException",
  "IncompleteSignatureException",
  "UnrecognizedClientException",
  "ExpiredTokenException",
  "InvalidSignatureException",
] as const;
export type FrontDoorErrorName = (typeof FRONT_DOOR_ERROR_NAMES)[number];

/** What a scripted failure answers: a modelled exception, a transport failure, or a front-door refusal. */
export const SCRIPTED_ERROR_NAMES = [
  "ThrottlingException",
  "InternalServerException",
  "AccessDeniedException",
  "ResourceNotFoundException",
  "ConflictException",
  "ServiceQuotaExceededException",
  "ValidationException",
  "ServiceUnavailable503",
  "ConnectionReset",
  "Hang",
  ...FRONT_DOOR_ERROR_NAMES,
] as const;
export type ScriptedErrorName = (typeof SCRIPTED_ERROR_NAMES)[number];

export interface ScriptedFailure {
  /** Operation name, e.g. "AcceptConnectionInvitation"; "*" (extension) matches any operation. */
  operation: string;
  /** Match only requests whose `Identifier` equals this. */
  identifier?: string;
  /** How many matching calls to fail. */
  times: number;
  error: ScriptedErrorName;
  reason?: string;
  message?: string;
  /** If set, a `Retry-After` header (seconds) is sent with the error. */
  retryAfterSeconds?: number;
  /**
   * Extension: carry the operation out first (state changes, the token is remembered), then
   * answer with this failure instead: an answer lost on its way back, as after a timeout.
   * With "Hang" the operation is carried out and no answer ever comes.
   */
  applyFirst?: boolean;
}

export interface CallFilter {
  operation?: string;
  identifier?: string;
}
