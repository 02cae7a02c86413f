import { randomUUID } from "node:crypto";
import type { InvitationApi, InvitationSummary } from "../aws/invitation-api.js";
import { classifyError } from "../aws/classify-error.js";
import { PartnerCentralCallError } from "../errors/index.js";
import type { DiscoveryPolicy, PolicyDecision } from "../schemas/policy.js";
import { applyPolicy } from "./discovery-policy.js";
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
 */
export interface DiscoveryPorts {
  /** The API's look-ups, each call through the shared limit (pacedLookups). */
  api: Pick<InvitationApi, "listInvitations" | "getInvitation">;
  enqueueMany(requests: readonly unknown[]): Promise<EnqueueResult[]>;
  preview(requests: readonly unknown[]): Promise<ReservationPreview[]>;
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
  /** API calls made: ListConnectionInvitations pages, GetConnectionInvitation reads. */
  calls: { list: number; get: number };
  invitations: DiscoveredInvitation[];
}

const DEFAULT_PAGE_SIZE = 100;
const DEFAULT_MAX_TRIES = 5;
const FIRST_RETRY_MS = 500;

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
    calls: { list: 0, get: 0 },
    invitations: [],
  };
  const call = <T>(operation: string, fn: () => Promise<T>) =>
    withRetries(operation, fn, options.maxTries ?? DEFAULT_MAX_TRIES, ports.sleep ?? sleep);

  for (const catalog of new Set(options.catalogs)) {
    let nextToken: string | undefined;
    do {
      summary.calls.list++;
      const page = await call("ListConnectionInvitations", () =>
        ports.api.listInvitations({
          catalog,
          participantType: "RECEIVER",
          status: "PENDING",
          maxResults: options.pageSize ?? DEFAULT_PAGE_SIZE,
          ...(nextToken ? { nextToken } : {}),
        }),
      );
      await decidePage(page.invitations);
      nextToken = page.nextToken ?? undefined;
    } while (nextToken);
  }
  summary.finishedAt = now().toISOString();
  return summary;

  /** Decides every invitation of one page, then enqueues the page's accepts and rejects in one batch. */
  async function decidePage(invitations: InvitationSummary[]): Promise<void> {
    const toEnqueue: Array<{ entry: DiscoveredInvitation; request: Record<string, unknown> }> = [];
    for (const inv of invitations) {
      // The filters already say RECEIVER and PENDING; an answer that says otherwise is left alone.
      if (inv.status !== "PENDING" || (inv.participantType !== null && inv.participantType !== "RECEIVER")) continue;
      summary.found++;
      const entry: DiscoveredInvitation = {
        catalog: inv.catalog,
        identifier: inv.identifier,
        otherParticipantIdentifier: inv.otherParticipantIdentifier,
        connectionType: inv.connectionType,
        decision: "hold",
        rule: null,
        result: "held",
      };
      summary.invitations.push(entry);
      const verdict = await applyPolicy(options.policy, inv, async () => {
        summary.calls.get++;
        const read = await call("GetConnectionInvitation", () =>
          ports.api.getInvitation({ catalog: inv.catalog, identifier: inv.identifier }),
        );
        entry.inviterEmail = read.invitation.InviterEmail ?? null;
        return entry.inviterEmail;
      });
      entry.decision = verdict.decision;
      entry.rule = verdict.rule;
      if (verdict.decision === "hold") {
        summary.held++;
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
    if (toEnqueue.length === 0) return;
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
): Promise<T> {
  for (let tryNo = 1; ; tryNo++) {
    try {
      return await fn();
    } catch (err) {
      const e = classifyError(err);
      if ((e.kind !== "throttle" && e.kind !== "transient") || tryNo >= maxTries) {
        throw new PartnerCentralCallError(operation, e.name, e.reason, e.httpStatus, e.message, { cause: err });
      }
      await wait(e.retryAfterMs ?? FIRST_RETRY_MS * 2 ** (tryNo - 1));
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
