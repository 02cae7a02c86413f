import { randomUUID } from "node:crypto";
import { classifyError } from "../aws/classify-error.js";
import type { InvitationApi } from "../aws/invitation-api.js";
import { noticeEventId, NOTICE_SCHEMA_VERSION, type Notice, type NoticeType } from "../contracts/notice.js";
import {
  DecisionConflictError,
  IdempotencyConflictError,
  InvitationNotFoundError,
  InvitationNotPendingError,
  PartnerCentralCallError,
  RequestValidationError,
} from "../errors/index.js";
import type { Logger } from "../observability/logger.js";
import type { DiscoveryHeldPort } from "../producer/discover.js";
import type { EnqueueResult, Producer } from "../producer/producer.js";
import type { HeldInvitations } from "../producer/ingest-event.js";
import { type Decision, decisionSchema } from "../schemas/decision.js";
import { toFieldIssues } from "../schemas/issues.js";
import type {
  ClosedHeldState,
  HeldInvitation,
  HeldSighting,
  HeldStore,
  InvitationRef,
  SightingResult,
} from "../store/held-store.js";
import type { JobStore } from "../store/request-store.js";

/**
 * The held invitations kept: what a discovery (or the event intake) holds is recorded, closed when
 * it ends elsewhere, decided here by a person, and announced by notices (contracts/notice.ts),
 * each once whichever process sends it.
 */
export interface HeldDeps {
  store: HeldStore;
  /** HELD_EXPIRY_NOTICE: how long before ExpiresAt the `invitation.expiring` notice goes out, ms. */
  expiryNoticeMs: number;
  now?: () => Date;
  logger?: Logger;
}

/** What decide() needs beyond HeldDeps. */
export interface DecideDeps extends HeldDeps {
  producer: Pick<Producer, "enqueueDecision">;
  /** GetConnectionInvitation, through the shared limit (an invitation never held is read first). */
  api: Pick<InvitationApi, "getInvitation">;
  /** The request store's jobs: who made the decision that stands (a duplicate's, a conflict's). */
  jobs: Pick<JobStore, "job">;
}

/** AWS's status of an invitation no longer pending → how its held record ends. */
const CLOSED_BY_STATUS: Record<string, ClosedHeldState> = {
  ACCEPTED: "accepted-elsewhere",
  REJECTED: "rejected-elsewhere",
  CANCELED: "canceled",
  EXPIRED: "expired",
};
/** A closed held record → the status a decision on it is answered with. */
const STATUS_BY_CLOSED: Record<string, string> = {
  "accepted-elsewhere": "ACCEPTED",
  "rejected-elsewhere": "REJECTED",
  canceled: "CANCELED",
  expired: "EXPIRED",
};

/** Records and due notices handled per periodic check. */
const CHECK_BATCH = 500;

/** The notice of `type` about a held invitation. */
export function noticeOf(record: HeldInvitation | HeldSighting, type: NoticeType, at: Date): Notice {
  return {
    schemaVersion: NOTICE_SCHEMA_VERSION,
    eventId: noticeEventId(type, record.catalog, record.identifier),
    type,
    catalog: record.catalog,
    identifier: record.identifier,
    otherParticipant: record.otherParticipantIdentifier,
    connectionType: record.connectionType,
    expiresAt: record.expiresAt,
    rule: record.rule,
    policyHash: record.policyHash,
    at: at.toISOString(),
  };
}

/** True when the invitation's ExpiresAt is within `windowMs` of `nowMs` (or past). */
function expiringSoon(expiresAt: string | null, nowMs: number, windowMs: number): boolean {
  const ms = expiresAt === null ? Number.NaN : Date.parse(expiresAt);
  return Number.isFinite(ms) && ms - nowMs <= windowMs;
}

/**
 * Records held invitations (a discovery's page, or the event intake's one): a new one's
 * `invitation.held` notice goes out, and the `invitation.expiring` one of any within
 * HELD_EXPIRY_NOTICE of its ExpiresAt; each notice once (the store's atomic claim).
 *
 * For the event intake: `recordHeld(deps, [{ catalog, identifier, otherParticipantIdentifier,
 * connectionType, inviterEmail, expiresAt, rule, policyHash, seenAt }])`.
 */
export async function recordHeld(deps: HeldDeps, sightings: readonly HeldSighting[]): Promise<SightingResult[]> {
  if (sightings.length === 0) return [];
  const results = await deps.store.recordHeld(sightings);
  const now = (deps.now ?? (() => new Date()))();
  for (const [i, result] of results.entries()) {
    if (result === "closed") continue;
    const s = sightings[i]!;
    if (result === "new") await deps.store.publishNotice(noticeOf(s, "invitation.held", now));
    if (expiringSoon(s.expiresAt, now.getTime(), deps.expiryNoticeMs)) await sendExpiring(deps, s, now);
  }
  return results;
}

async function sendExpiring(deps: HeldDeps, record: HeldInvitation | HeldSighting, now: Date): Promise<void> {
  await deps.store.publishNotice(noticeOf(record, "invitation.expiring", now));
  await deps.store.markExpiringNoticed(record);
}

/**
 * A held invitation is no longer pending: `status` is AWS's (ACCEPTED, REJECTED, CANCELED,
 * EXPIRED); PENDING marks it seen again; any other status (or NOT_FOUND) leaves it as it is.
 * A record closed already (decided here, say) stays as it was. Resolves to the record, if any.
 *
 * For the event intake: `closeHeld(deps, catalog, identifier, status)`.
 */
export async function closeHeld(
  deps: HeldDeps,
  catalog: string,
  identifier: string,
  status: string,
): Promise<HeldInvitation | undefined> {
  const ref = { catalog, identifier };
  const at = (deps.now ?? (() => new Date()))().toISOString();
  const state = CLOSED_BY_STATUS[status];
  if (state) return (await deps.store.closeHeld(ref, state, at))?.record;
  if (status === "PENDING") await deps.store.touchHeld([ref], at);
  else deps.logger?.warn({ catalog, identifier, status }, "a held invitation read with a status left as it is");
  return deps.store.getHeld(ref);
}

/**
 * The periodic check of the held list (every process that keeps it: workers, serve): the
 * `invitation.expiring` notice of each held invitation within HELD_EXPIRY_NOTICE of its expiry
 * (once each), and held invitations past their ExpiresAt closed as expired. Bounded per call.
 */
export async function checkHeld(deps: HeldDeps): Promise<{ expiring: number; expired: number }> {
  const now = (deps.now ?? (() => new Date()))();
  const due = await deps.store.dueForExpiringNotice(now.getTime() + deps.expiryNoticeMs, CHECK_BATCH);
  for (const record of due) await sendExpiring(deps, record, now);
  const expired = await deps.store.expiredHeld(now.getTime(), CHECK_BATCH);
  for (const ref of expired) await deps.store.closeHeld(ref, "expired", now.toISOString());
  return { expiring: due.length, expired: expired.length };
}

/**
 * checkHeld every `intervalMs` (and once at once), until stop(). A failed check is logged and
 * tried again at the next tick; stop() waits for a check in progress.
 */
export function startHeldCheck(deps: HeldDeps, intervalMs: number): { stop(): Promise<void> } {
  let running: Promise<unknown> = Promise.resolve();
  let stopped = false;
  const tick = () => {
    if (stopped) return;
    running = checkHeld(deps).catch((err: unknown) =>
      deps.logger?.warn({ err }, "the held invitations' check failed; trying again at the next tick"),
    );
  };
  tick();
  const timer = setInterval(tick, intervalMs);
  timer.unref();
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}

/** What a discovery does with held invitations, over the held store (DiscoveryPorts.held). */
export function heldPortOf(deps: HeldDeps): DiscoveryHeldPort {
  return {
    async record(sightings) {
      return (await recordHeld(deps, sightings)).filter((r) => r === "new").length;
    },
    async decidedByPolicy(decided) {
      const at = (deps.now ?? (() => new Date()))().toISOString();
      await Promise.all(
        decided.map((d) =>
          deps.store.closeHeld(d, "decided", at, {
            action: d.action,
            ...(d.reason !== undefined ? { reason: d.reason } : {}),
            decidedBy: POLICY,
            requestId: d.requestId,
          }),
        ),
      );
    },
    unseen: (catalog, beforeMs, limit) => deps.store.unseenHeld(catalog, beforeMs, limit),
    async resolve(ref, status) {
      const before = await deps.store.getHeld(ref);
      const after = await closeHeld(deps, ref.catalog, ref.identifier, status);
      if (status === "NOT_FOUND") await deps.store.touchHeld([ref], (deps.now ?? (() => new Date()))().toISOString());
      return before?.state === "held" && after !== undefined && after.state !== "held";
    },
  };
}

/** `decidedBy` of a held invitation a discovery's policy decided on later. */
const POLICY = "discovery policy";

/** What decide() answers. */
export interface DecisionResult {
  catalog: string;
  identifier: string;
  action: "accept" | "reject";
  reason?: string;
  /** Who made the decision that stands: this call's, or (a duplicate) the first one's; null: a policy or a caller. */
  decidedBy: string | null;
  /** Why it had been held; null when it never was. */
  heldBy: { rule: number | null; policyHash: string } | null;
  /** The request: new, or the first decision's (duplicate: true). */
  request: EnqueueResult;
}

/**
 * A person's decision on an invitation: accept, or reject with a reason. Enqueued through the
 * producer under the invitation's default idempotency key, so two people deciding at once make one
 * request: the second sees the first's (same decision), or DecisionConflictError (another). The
 * outcome carries `decidedBy` and `heldBy`.
 * - A held invitation closed elsewhere (accepted, rejected, canceled, expired): InvitationNotPendingError.
 * - An invitation never held is read first (GetConnectionInvitation): decided only while PENDING.
 * @throws RequestValidationError, InvitationNotPendingError, InvitationNotFoundError,
 *   DecisionConflictError, PartnerCentralCallError (the read failed), RedisFullError
 */
export async function decide(deps: DecideDeps, input: unknown): Promise<DecisionResult> {
  const parsed = decisionSchema.safeParse(input);
  if (!parsed.success) throw new RequestValidationError(toFieldIssues(parsed.error));
  const d: Decision = parsed.data;
  const ref = { catalog: d.catalog, identifier: d.identifier };
  const now = (deps.now ?? (() => new Date()))();

  const held = await deps.store.getHeld(ref);
  if (held) await refuseUnlessPending(deps, held, now);
  else await readPending(deps, ref);

  const heldBy = held ? { rule: held.rule, policyHash: held.policyHash } : null;
  const request = {
    catalog: d.catalog,
    identifier: d.identifier,
    ...(d.action === "reject" ? { action: "reject", ...(d.reason !== undefined ? { reason: d.reason } : {}) } : {}),
    correlationId: `decide-${randomUUID()}`,
  };
  let result: EnqueueResult;
  try {
    result = await deps.producer.enqueueDecision(request, {
      decidedBy: d.decidedBy,
      ...(heldBy ? { heldBy } : {}),
    });
  } catch (err) {
    if (!(err instanceof IdempotencyConflictError)) throw err;
    const standing = await standingDecision(deps, err.existingJobId);
    throw new DecisionConflictError(
      d.catalog,
      d.identifier,
      { requestId: err.existingJobId ?? "(unknown)", ...standing },
      err.differences,
    );
  }
  if (held?.state === "held") {
    await deps.store.closeHeld(ref, "decided", now.toISOString(), {
      action: d.action,
      ...(d.reason !== undefined ? { reason: d.reason } : {}),
      decidedBy: d.decidedBy,
      requestId: result.jobId,
    });
  }
  const decidedBy = result.duplicate
    ? ((await standingDecision(deps, result.jobId, result)).decidedBy ??
      (held?.decision?.requestId === result.jobId ? held.decision.decidedBy : null))
    : d.decidedBy;
  return {
    catalog: d.catalog,
    identifier: d.identifier,
    action: d.action,
    ...(d.reason !== undefined ? { reason: d.reason } : {}),
    decidedBy,
    heldBy,
    request: result,
  };
}

/** A held record that is closed elsewhere, or past its ExpiresAt: InvitationNotPendingError. */
async function refuseUnlessPending(deps: HeldDeps, held: HeldInvitation, now: Date): Promise<void> {
  const status = STATUS_BY_CLOSED[held.state];
  if (status) throw new InvitationNotPendingError(held.catalog, held.identifier, status, held.state);
  if (held.state === "held" && held.expiresAt !== null && Date.parse(held.expiresAt) <= now.getTime()) {
    await deps.store.closeHeld(held, "expired", now.toISOString());
    throw new InvitationNotPendingError(held.catalog, held.identifier, "EXPIRED", "expired");
  }
}

/** An invitation never held: read it; only a PENDING one may be decided. */
async function readPending(deps: DecideDeps, ref: InvitationRef): Promise<void> {
  let status: string;
  try {
    status = (await deps.api.getInvitation(ref)).status;
  } catch (err) {
    const e = classifyError(err);
    if (e.name === "ResourceNotFoundException") throw new InvitationNotFoundError(ref.catalog, ref.identifier);
    throw new PartnerCentralCallError("GetConnectionInvitation", e.name, e.reason, e.httpStatus, e.message, {
      cause: err,
    });
  }
  if (status !== "PENDING") throw new InvitationNotPendingError(ref.catalog, ref.identifier, status);
}

/** Who made the decision of an existing request, and what it was: its job's data, or its outcome. */
async function standingDecision(
  deps: DecideDeps,
  requestId: string | undefined,
  result?: EnqueueResult,
): Promise<{ action: string | null; decidedBy: string | null }> {
  if (!requestId) return { action: null, decidedBy: null };
  const job = await deps.jobs.job(requestId);
  const data = job?.data as { request?: { action?: string }; decision?: { decidedBy?: string } } | undefined;
  const outcome = result?.outcome as { action?: string | null; decidedBy?: string } | undefined;
  return {
    action: data?.request ? (data.request.action ?? "accept") : (outcome?.action ?? null),
    decidedBy: data?.decision?.decidedBy ?? outcome?.decidedBy ?? null,
  };
}

/**
 * The held invitations as the event intake speaks to them (producer/ingest-event.ts
 * HeldInvitations): a hold is recorded (and announced) under `policyHash`, an end closes the held
 * record (true when this call closed it; one decided here stays decided).
 */
export function ingestHeldOf(deps: HeldDeps, policyHash: string): HeldInvitations {
  return {
    async hold(invitation) {
      await recordHeld(deps, [
        {
          catalog: invitation.catalog,
          identifier: invitation.identifier,
          otherParticipantIdentifier: invitation.otherParticipantIdentifier,
          connectionType: invitation.connectionType,
          inviterEmail: invitation.inviterEmail,
          expiresAt: invitation.expiresAt,
          rule: invitation.rule,
          policyHash,
          seenAt: (deps.now ?? (() => new Date()))().toISOString(),
        },
      ]);
    },
    async close(catalog, identifier, how) {
      const before = await deps.store.getHeld({ catalog, identifier });
      if (before?.state !== "held") return false;
      const after = await closeHeld(deps, catalog, identifier, how.status);
      return after !== undefined && after.state !== "held";
    },
  };
}
