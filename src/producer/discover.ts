import { createHash, randomUUID } from "node:crypto";
import type { InvitationApi, InvitationSummary } from "../aws/invitation-api.js";
import { classifyError } from "../aws/classify-error.js";
import { PartnerCentralCallError } from "../errors/index.js";
import { CONFIG_DEFAULTS } from "../schemas/config.js";
import type { DiscoveryPolicy, PolicyDecision } from "../schemas/policy.js";
import { applyPolicy, policyHash } from "./discovery-policy.js";
import type { HeldSighting, InvitationRef } from "../store/held-store.js";
import { enqueueEach, previewedDispositions, type Disposition } from "./enqueue-each.js";
import type { EnqueueResult } from "./producer.js";
import type { ReservationPreview } from "../request-record/record.js";

/**
 * Discovery: the invitations waiting for us (ListConnectionInvitations, RECEIVER and PENDING,
 * every page), each decided by the policy, the accepts and rejects enqueued through the producer
 * with their default idempotency key. So a second run enqueues nothing twice (its requests are
 * duplicates), an invitation the policy now decides otherwise than before is reported as a
 * conflict (never a crash), and `hold` enqueues nothing. A dry run reads the same, decides the
 * same, and writes nothing.
 *
 * Pure orchestration over ports: the API calls come paced by the shared limit (app wiring), the
 * enqueues are the producer's.
 *
 * Bounded whatever the list API answers: invitations are decided and enqueued page by page (a page
 * at most `pageSize`), the summary lists at most `maxListed` of them (its counts stay exact), and
 * a catalog's listing ends with PartnerCentralCallError when a NextToken comes back that this run
 * was already given for that catalog (a listing going round in circles) or when it still has a
 * NextToken after `maxPages` pages. Aborting `signal` stops the run at its next step: a call not
 * yet sent is never sent, a call on the wire is cut off, a wait for a slot of the shared limit ends
 * without the slot.
 */
export interface DiscoveryPorts {
  /** The API's look-ups, each call through the shared limit (pacedLookups). */
  api: Pick<InvitationApi, "listInvitations" | "getInvitation">;
  enqueueMany(requests: readonly unknown[]): Promise<EnqueueResult[]>;
  preview(requests: readonly unknown[]): Promise<ReservationPreview[]>;
  /**
   * The held invitations (app/held.ts heldPortOf): each invitation the run holds is recorded, and
   * one recorded before that the listing no longer shows is read once more and closed as it ended.
   * Without it, nothing is recorded. Never used by a dry run.
   */
  held?: DiscoveryHeldPort;
  /** Waits between tries of a call AWS throttled or could not answer. @defaultValue setTimeout */
  sleep?: (ms: number) => Promise<void>;
  now?: () => Date;
}

export interface DiscoveryOptions {
  /** Catalogs to look in, e.g. ["AWS", "Sandbox"]. */
  catalogs: readonly string[];
  policy: DiscoveryPolicy;
  /** Read and decide, enqueue nothing. @defaultValue false */
  dryRun?: boolean;
  /** ListConnectionInvitations page size (1-100). @defaultValue 100 */
  pageSize?: number;
  /** Tries of one API call when AWS throttles it or answers 5xx / not at all. @defaultValue 5 */
  maxTries?: number;
  /** Given to each request as its correlationId prefix; default: a new UUID per run. */
  runId?: string;
  /**
   * Most ListConnectionInvitations pages read per catalog: a listing that still has a NextToken
   * after them ends the run with PartnerCentralCallError (errorName TooManyPages).
   * @defaultValue DISCOVERY_MAX_PAGES's default, 1000
   */
  maxPages?: number;
  /**
   * Most invitations listed in the summary's `invitations` (the first ones found); the counts cover
   * every invitation and `invitationsOmitted` says how many are not listed.
   * @defaultValue DISCOVERY_MAX_LISTED's default, 1000
   */
  maxListed?: number;
  /** Stops the run (it rejects with the signal's reason): an HTTP caller that left, a shutdown. */
  signal?: AbortSignal;
  /**
   * Most held invitations read again per catalog because the listing no longer shows them
   * (GetConnectionInvitation, through the shared limit). @defaultValue 1000
   */
  maxUnseenReads?: number;
}

/** What a discovery does with held invitations (app/held.ts heldPortOf keeps them). */
export interface DiscoveryHeldPort {
  /** Records the invitations held on one page; resolves to how many were held for the first time. */
  record(sightings: HeldSighting[]): Promise<number>;
  /** Invitations a policy decided on this run (enqueued, or found enqueued): one held before is decided now. */
  decidedByPolicy(
    decided: Array<InvitationRef & { action: "accept" | "reject"; reason?: string; requestId: string }>,
  ): Promise<void>;
  /** Held invitations of `catalog` last seen before `beforeMs` (not listed by this run), at most `limit`. */
  unseen(catalog: string, beforeMs: number, limit: number): Promise<InvitationRef[]>;
  /**
   * What a read found of a held invitation the listing no longer shows: its status (PENDING,
   * ACCEPTED, REJECTED, CANCELED, EXPIRED, another, or NOT_FOUND). True when it was closed.
   */
  resolve(ref: InvitationRef, status: string, seenAt: string): Promise<boolean>;
}

/** One pending invitation and what the run did with it. */
export interface DiscoveredInvitation {
  catalog: string;
  identifier: string;
  otherParticipantIdentifier: string | null;
  connectionType: string | null;
  /** Read with GetConnectionInvitation when a rule asked for inviterEmailDomains. */
  inviterEmail?: string | null;
  decision: PolicyDecision;
  /** Index of the rule that decided, or null for the policy's default. */
  rule: number | null;
  /** held; enqueued (a dry run: would be); duplicate (an existing request); conflict (its key holds another payload).
   * */
  result: "held" | "enqueued" | "duplicate" | "conflict";
  /** The request's job (a new one, or the existing one of a duplicate); null for a dry run's new request. */
  jobId?: string | null;
  /** conflict: the request that holds the key, and the fields that differ from it. */
  existingJobId?: string;
  differences?: string[];
}

export interface DiscoverySummary {
  runId: string;
  dryRun: boolean;
  catalogs: string[];
  startedAt: string;
  finishedAt: string;
  /** Pending invitations found. */
  found: number;
  /** New requests, per action (a dry run: would be). */
  enqueued: { accept: number; reject: number };
  duplicates: number;
  conflicts: number;
  held: number;
  /** Held invitations recorded for the first time by this run (0 for a dry run, or without a held store). */
  heldNew?: number;
  /**
   * Held invitations recorded before that the listing no longer showed, read again and closed
   * (accepted or rejected elsewhere, canceled, expired).
   */
  heldClosed?: number;
  /** API calls made: ListConnectionInvitations pages, GetConnectionInvitation reads. */
  calls: { list: number; get: number };
  /** The first `maxListed` invitations found, in the order found. */
  invitations: DiscoveredInvitation[];
  /** Invitations found but not in `invitations` (past `maxListed`); 0 when the list is whole. */
  invitationsOmitted: number;
}

const DEFAULT_PAGE_SIZE = 100;
const DEFAULT_MAX_TRIES = 5;
const FIRST_RETRY_MS = 500;
const LIST_OPERATION = "ListConnectionInvitations";
const DEFAULT_MAX_UNSEEN_READS = 1000;
/** Unseen held invitations asked for at a time. */
const UNSEEN_PAGE = 100;

export async function discover(ports: DiscoveryPorts, options: DiscoveryOptions): Promise<DiscoverySummary> {
  const now = ports.now ?? (() => new Date());
  const runId = options.runId ?? randomUUID();
  const summary: DiscoverySummary = {
    runId,
    dryRun: options.dryRun === true,
    catalogs: [...options.catalogs],
    startedAt: now().toISOString(),
    finishedAt: "",
    found: 0,
    enqueued: { accept: 0, reject: 0 },
    duplicates: 0,
    conflicts: 0,
    held: 0,
    ...(ports.held && options.dryRun !== true ? { heldNew: 0, heldClosed: 0 } : {}),
    calls: { list: 0, get: 0 },
    invitations: [],
    invitationsOmitted: 0,
  };
  const { signal } = options;
  const callOptions = signal ? { signal } : {};
  const maxPages = options.maxPages ?? CONFIG_DEFAULTS.DISCOVERY_MAX_PAGES;
  const maxListed = options.maxListed ?? CONFIG_DEFAULTS.DISCOVERY_MAX_LISTED;
  const call = <T>(operation: string, fn: () => Promise<T>) =>
    withRetries(operation, fn, options.maxTries ?? DEFAULT_MAX_TRIES, ports.sleep ?? sleep, signal);

  const held = summary.dryRun ? undefined : ports.held;
  const hash = policyHash(options.policy);
  for (const catalog of new Set(options.catalogs)) {
    // Digests of the NextTokens this catalog's listing gave (so a long token costs 32 bytes), by
    // the page that gave each: at most maxPages of them.
    const seen = new Map<string, number>();
    let nextToken: string | undefined;
    for (let pages = 0; ; ) {
      summary.calls.list++;
      const page = await call(LIST_OPERATION, () =>
        ports.api.listInvitations(
          {
            catalog,
            participantType: "RECEIVER",
            status: "PENDING",
            maxResults: options.pageSize ?? DEFAULT_PAGE_SIZE,
            ...(nextToken ? { nextToken } : {}),
          },
          callOptions,
        ),
      );
      pages++;
      await decidePage(page.invitations);
      nextToken = page.nextToken ?? undefined;
      if (!nextToken) break;
      const digest = createHash("sha256").update(nextToken).digest("base64");
      const first = seen.get(digest);
      if (first !== undefined)
        throw pagingError(
          "RepeatedNextToken",
          `catalog ${catalog}: page ${pages} answered the NextToken page ${first} had answered, so the listing ` +
            `would go round for ever; stopped after ${pages} pages (what was enqueued so far stands)`,
        );
      if (pages >= maxPages)
        throw pagingError(
          "TooManyPages",
          `catalog ${catalog}: the listing still had a NextToken after ${pages} pages (DISCOVERY_MAX_PAGES); ` +
            `stopped (what was enqueued so far stands)`,
        );
      seen.set(digest, pages);
    }
    if (held) await closeUnseen(catalog);
  }
  summary.finishedAt = now().toISOString();
  return summary;

  /**
   * After a whole listing of `catalog`: the invitations held before that it no longer showed are
   * read once more (at most maxUnseenReads), each closed as it ended, or seen again while pending.
   */
  async function closeUnseen(catalog: string): Promise<void> {
    const startedMs = Date.parse(summary.startedAt);
    const most = options.maxUnseenReads ?? DEFAULT_MAX_UNSEEN_READS;
    for (let reads = 0; reads < most; ) {
      const refs = await held!.unseen(catalog, startedMs, Math.min(UNSEEN_PAGE, most - reads));
      if (refs.length === 0) return;
      for (const ref of refs) {
        signal?.throwIfAborted();
        reads++;
        summary.calls.get++;
        let status: string;
        try {
          status = (await call("GetConnectionInvitation", () => ports.api.getInvitation(ref, callOptions))).status;
        } catch (err) {
          if (!(err instanceof PartnerCentralCallError) || err.errorName !== "ResourceNotFoundException") throw err;
          status = "NOT_FOUND";
        }
        if (await held!.resolve(ref, status, now().toISOString())) summary.heldClosed!++;
      }
    }
  }

  /** Decides every invitation of one page, then enqueues the page's accepts and rejects in one batch. */
  async function decidePage(invitations: InvitationSummary[]): Promise<void> {
    const toEnqueue: Array<{ entry: DiscoveredInvitation; request: Record<string, unknown> }> = [];
    const sightings: HeldSighting[] = [];
    for (const inv of invitations) {
      // The filters already say RECEIVER and PENDING; an answer that says otherwise is left alone.
      if (inv.status !== "PENDING" || (inv.participantType !== null && inv.participantType !== "RECEIVER")) continue;
      summary.found++;
      signal?.throwIfAborted();
      const entry: DiscoveredInvitation = {
        catalog: inv.catalog,
        identifier: inv.identifier,
        otherParticipantIdentifier: inv.otherParticipantIdentifier,
        connectionType: inv.connectionType,
        decision: "hold",
        rule: null,
        result: "held",
      };
      if (summary.invitations.length < maxListed) summary.invitations.push(entry);
      else summary.invitationsOmitted++;
      const verdict = await applyPolicy(options.policy, inv, async () => {
        summary.calls.get++;
        const read = await call("GetConnectionInvitation", () =>
          ports.api.getInvitation({ catalog: inv.catalog, identifier: inv.identifier }, callOptions),
        );
        entry.inviterEmail = read.invitation.InviterEmail ?? null;
        return entry.inviterEmail;
      });
      entry.decision = verdict.decision;
      entry.rule = verdict.rule;
      if (verdict.decision === "hold") {
        summary.held++;
        sightings.push({
          catalog: inv.catalog,
          identifier: inv.identifier,
          otherParticipantIdentifier: inv.otherParticipantIdentifier,
          connectionType: inv.connectionType,
          inviterEmail: entry.inviterEmail ?? null,
          expiresAt: inv.expiresAt,
          rule: verdict.rule,
          policyHash: hash,
          seenAt: now().toISOString(),
        });
        continue;
      }
      toEnqueue.push({
        entry,
        request: {
          catalog: inv.catalog,
          identifier: inv.identifier,
          ...(verdict.decision === "reject"
            ? { action: "reject", ...(verdict.reason !== undefined ? { reason: verdict.reason } : {}) }
            : {}),
          correlationId: `discover-${runId}`,
        },
      });
    }
    if (held && sightings.length > 0) summary.heldNew! += await held.record(sightings);
    if (toEnqueue.length === 0) return;
    signal?.throwIfAborted();
    const requests = toEnqueue.map((t) => t.request);
    const dispositions: Disposition[] = summary.dryRun
      ? previewedDispositions(await ports.preview(requests))
      : await enqueueEach(ports.enqueueMany, requests, ports.preview);
    dispositions.forEach((d, i) => {
      const entry = toEnqueue[i]!.entry;
      switch (d.disposition) {
        case "enqueued":
          entry.result = "enqueued";
          entry.jobId = d.jobId;
          summary.enqueued[entry.decision === "reject" ? "reject" : "accept"]++;
          break;
        case "duplicate":
          entry.result = "duplicate";
          entry.jobId = d.jobId;
          summary.duplicates++;
          break;
        case "conflict":
          entry.result = "conflict";
          entry.existingJobId = d.existingJobId;
          entry.differences = d.differences;
          summary.conflicts++;
          break;
      }
    });
    if (held) {
      const decided = toEnqueue.flatMap(({ entry }) =>
        entry.jobId && (entry.result === "enqueued" || entry.result === "duplicate")
          ? [
              {
                catalog: entry.catalog,
                identifier: entry.identifier,
                action: entry.decision === "reject" ? ("reject" as const) : ("accept" as const),
                requestId: entry.jobId,
              },
            ]
          : [],
      );
      if (decided.length > 0) await held.decidedByPolicy(decided);
    }
  }
}

/**
 * One API call, tried again (with exponential backoff, or AWS's Retry-After) while AWS throttles
 * it or answers 5xx / not at all: a discovery of thousands of invitations should not end for one
 * lost answer. Anything else, or the last try, ends the run with PartnerCentralCallError. Look-ups
 * change nothing, so trying again is always safe.
 */
async function withRetries<T>(
  operation: string,
  fn: () => Promise<T>,
  maxTries: number,
  wait: (ms: number) => Promise<void>,
  signal: AbortSignal | undefined,
): Promise<T> {
  for (let tryNo = 1; ; tryNo++) {
    signal?.throwIfAborted();
    try {
      return await fn();
    } catch (err) {
      // Aborted: the signal's reason, whatever the call threw on its way out.
      signal?.throwIfAborted();
      const e = classifyError(err);
      if ((e.kind !== "throttle" && e.kind !== "transient") || tryNo >= maxTries) {
        throw new PartnerCentralCallError(operation, e.name, e.reason, e.httpStatus, e.message, { cause: err });
      }
      await untilAborted(wait(e.retryAfterMs ?? FIRST_RETRY_MS * 2 ** (tryNo - 1)), signal);
    }
  }
}

/**
 * A listing that cannot end: ListConnectionInvitations answered a NextToken it had answered before,
 * or more pages than a run reads. An AWS call that failed, as far as the caller can tell (HTTP 502).
 */
function pagingError(name: "RepeatedNextToken" | "TooManyPages", detail: string): PartnerCentralCallError {
  return new PartnerCentralCallError(LIST_OPERATION, name, null, null, detail);
}

/** `promise`, or the signal's reason as soon as it is aborted. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener("abort", onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(e);
      },
    );
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
