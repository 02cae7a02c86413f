/**
 * What a chaos run observed, and the invariants judged on it. Pure: no I/O, so the rules can be
 * read (and unit-tested) apart from the machinery that collects the observations.
 */

/** A request a producer process got back from enqueueMany. */
export interface Ack {
  jobId: string;
  identifier: string;
  /** Producer's clock, ms. */
  at: number;
}

/** An outcome event the consumer handled (printed before acknowledging it). */
export interface Delivery {
  requestId: string;
  eventId: string;
  type: string;
  completedAt: string;
  identifier: string | null;
  at: number;
}

/** An outcome job found in Redis at the end. */
export interface OutcomeJob {
  id: string;
  /** BullMQ state: completed = consumed; failed = parked. */
  state: string;
  type: string | null;
  identifier: string | null;
  alreadyAccepted: boolean;
  errorName: string | null;
}

/** One AcceptConnectionInvitation in the emulator's call log. */
export interface AcceptCall {
  identifier: string;
  clientToken: string | null;
  status: number;
  replayed: boolean;
}

/**
 * What a simulated host crash (a SIGKILL of Redis under appendfsync everysec, its AOF cut back to
 * its size of ~1 s before) took away, read from the dropped part of the AOF (aof.ts).
 */
export interface AofLoss {
  /** When Redis was killed, ms. */
  at: number;
  droppedBytes: number;
  /** Request jobs whose creation was dropped (their record with them: one script writes both). */
  requestJobs: string[];
  /** Outcome jobs (id = request id) whose creation was dropped: their publication was lost. */
  outcomes: string[];
}

export interface InjectedJob {
  id: string;
  kind: "not-json" | "invalid-json";
}

export interface Observations {
  /** Requests handed to the producers (one per invitation). */
  submitted: number;
  acks: Ack[];
  deliveries: Delivery[];
  /** Handler throws of the consumer (on purpose). */
  thrown: number;
  /** Parked events the consumer reported (onError with OutcomeParkedError). */
  parkedReported: string[];
  outcomeJobs: OutcomeJob[];
  /** Request job ids per BullMQ state at the end (finished ones excluded). */
  requestJobsUnfinished: Record<string, string[]>;
  /** Request records still queued or in progress: [jobId, state]. */
  openRecords: Array<{ jobId: string; state: string }>;
  acceptCalls: AcceptCall[];
  /** Invitation status in the emulator, per identifier requested. */
  invitationStatus: Map<string, string>;
  injectedJobs: InjectedJob[];
  /**
   * What each simulated host crash cut from the AOF. The only losses allowed: a request whose
   * creation was cut (acknowledged, then gone with Redis's last second), and a republication of
   * an outcome whose first publication was cut.
   */
  aofLosses: AofLoss[];
  resubmission: { resubmitted: number; recovered: number; newRequests: number } | null;
  /** Where the request jobs left without a delivered outcome ended (BullMQ state, failedReason…), by job id. */
  requestsWithoutOutcome: Record<string, RequestJobState>;
}

export interface RequestJobState {
  /** BullMQ state, or "missing" when the job hash is gone. */
  state: string;
  failedReason: string | null;
  attemptsMade: number;
  stalledCounter: number;
  /**
   * The request record's state, or "missing"; "…, for a later request" when the record names
   * another job (`recordJobId`): a re-submission with the same key made a new request after this
   * one's record was gone (a host crash cut it), and the record is that request's.
   */
  record: string;
  recordJobId?: string;
}

/** The invariants every run is judged on (the keys of `evaluate(...).invariants`). */
export const INVARIANT_NAMES = [
  "everyRequestAcknowledged",
  "noAcknowledgedRequestLost",
  "lostRequestsRecoveredByResubmission",
  "noDuplicateOutcome",
  "noInvitationActedOnTwice",
  "oneClientTokenPerInvitation",
  "noRecordLeftOpen",
  "everyRequestJobFinished",
  "everyOutcomeDelivered",
  "outcomesAgreeWithAws",
  "injectedJobsEnd",
] as const;
export type InvariantName = (typeof INVARIANT_NAMES)[number];

export interface Invariant {
  pass: boolean;
  /** The figure the verdict is based on. */
  value: number;
  rule: string;
}

function countBy(keys: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of keys) out[k] = (out[k] ?? 0) + 1;
  return out;
}

const sample = (ids: Iterable<string>, n = 10) => [...ids].slice(0, n);
/** BullMQ states of a job still to run or running. */
const UNFINISHED = new Set(["waiting", "active", "delayed", "prioritized"]);

export function evaluate(o: Observations) {
  const ackById = new Map<string, Ack>();
  for (const a of o.acks) if (!ackById.has(a.jobId)) ackById.set(a.jobId, a);
  const outcomeById = new Map(o.outcomeJobs.map((j) => [j.id, j]));
  const deliveriesById = new Map<string, Delivery[]>();
  for (const d of o.deliveries) {
    const list = deliveriesById.get(d.requestId) ?? [];
    list.push(d);
    deliveriesById.set(d.requestId, list);
  }

  // What the simulated host crashes took: judged on the AOF's dropped writes, never on clocks (a
  // request acknowledged just before a crash may have been written long before the cut, and a
  // write may reach Redis long after its process stamped it, on a loaded machine).
  const droppedRequests = new Set(o.aofLosses.flatMap((l) => l.requestJobs));
  const droppedOutcomes = new Set(o.aofLosses.flatMap((l) => l.outcomes));

  // Lost: acknowledged, and no outcome was ever delivered or is in Redis. Allowed only when the
  // request's creation was among the dropped writes.
  const lost = [...ackById.values()].filter((a) => !deliveriesById.has(a.jobId) && !outcomeById.has(a.jobId));
  const lostAllowed = lost.filter((a) => droppedRequests.has(a.jobId));
  const lostNotAllowed = lost.filter((a) => !droppedRequests.has(a.jobId));
  // Of those, the ones whose job was still waiting or running when the harness stopped waiting: the
  // run did not finish them in time (a timeout on a slow machine) rather than lost them.
  const lostUnfinished = lostNotAllowed.filter((a) => UNFINISHED.has(o.requestsWithoutOutcome[a.jobId]?.state ?? ""));

  // Duplicates: one request delivered as two different events (another eventId, or another
  // publication: a different completedAt or type). Redeliveries of the same event are allowed.
  let redeliveries = 0;
  const severalEventIds: string[] = [];
  const republished: string[] = [];
  const differentTypes: string[] = [];
  const firstPublicationDropped: string[] = [];
  for (const [id, list] of deliveriesById) {
    const events = new Set(list.map((d) => d.eventId));
    const publications = new Set(list.map((d) => `${d.type}|${d.completedAt}`));
    redeliveries += list.length - publications.size;
    if (events.size > 1) severalEventIds.push(id);
    if (publications.size > 1) {
      republished.push(id);
      if (new Set(list.map((d) => d.type)).size > 1) differentTypes.push(id);
      // Allowed when the first publication was among the writes a host crash cut from the AOF (the
      // consumer had handled it; the job ran again and published the same event anew).
      if (droppedOutcomes.has(id)) firstPublicationDropped.push(id);
    }
  }
  const duplicateIds = new Set([...severalEventIds, ...republished]);
  const allowedDuplicates = new Set(firstPublicationDropped.filter((id) => !severalEventIds.includes(id)));
  // Two requests of one invitation that both got an outcome (the producer made two jobs for one key).
  const requestsPerInvitation = new Map<string, Set<string>>();
  for (const a of ackById.values()) {
    if (!deliveriesById.has(a.jobId) && !outcomeById.has(a.jobId)) continue;
    const s = requestsPerInvitation.get(a.identifier) ?? new Set<string>();
    s.add(a.jobId);
    requestsPerInvitation.set(a.identifier, s);
  }
  const invitationsWithSeveralRequests = [...requestsPerInvitation].filter(([, s]) => s.size > 1).map(([i]) => i);
  const unexplainedDuplicates =
    [...duplicateIds].filter((id) => !allowedDuplicates.has(id)).length + invitationsWithSeveralRequests.length;

  // AWS's side: an Accept answered 200 without replay is an acceptance carried out by that call.
  const carriedOut = new Map<string, number>();
  const tokens = new Map<string, Set<string>>();
  for (const c of o.acceptCalls) {
    if (c.status === 200 && !c.replayed) carriedOut.set(c.identifier, (carriedOut.get(c.identifier) ?? 0) + 1);
    if (c.clientToken) {
      const s = tokens.get(c.identifier) ?? new Set<string>();
      s.add(c.clientToken);
      tokens.set(c.identifier, s);
    }
  }
  const actedOnTwice = [...carriedOut].filter(([, n]) => n > 1).map(([i]) => i);
  const severalTokens = [...tokens].filter(([, s]) => s.size > 1).map(([i]) => i);

  // Outcomes that contradict AWS: accepted while the invitation is not ACCEPTED, or failed while it is.
  const disagreeing: string[] = [];
  const injectedIds = new Set(o.injectedJobs.map((j) => j.id));
  for (const j of o.outcomeJobs) {
    if (injectedIds.has(j.id) || !j.identifier) continue;
    const status = o.invitationStatus.get(j.identifier);
    if (status === undefined) continue;
    if ((j.type === "accepted") !== (status === "ACCEPTED")) disagreeing.push(j.id);
  }

  const notDelivered: Record<string, number> = {};
  for (const j of o.outcomeJobs) if (j.state !== "completed") notDelivered[j.state] = (notDelivered[j.state] ?? 0) + 1;
  const parked = o.outcomeJobs.filter((j) => j.state === "failed").map((j) => j.id);
  const unfinished = Object.fromEntries(
    Object.entries(o.requestJobsUnfinished)
      .filter(([, ids]) => ids.length > 0)
      .map(([s, ids]) => [s, ids.length]),
  );
  const unfinishedTotal = Object.values(unfinished).reduce((a, b) => a + b, 0);

  const injected = (kind: InjectedJob["kind"]) => {
    const jobs = o.injectedJobs.filter((j) => j.kind === kind);
    const withOutcome = jobs.filter((j) => outcomeById.has(j.id));
    return {
      injected: jobs.length,
      withOutcome: withOutcome.length,
      invalidJobOutcome: withOutcome.filter((j) => outcomeById.get(j.id)!.errorName === "InvalidJob").length,
      withoutOutcome: sample(jobs.filter((j) => !outcomeById.has(j.id)).map((j) => j.id)),
    };
  };

  const failedByName: Record<string, number> = {};
  for (const j of o.outcomeJobs)
    if (j.type === "failed" && !injectedIds.has(j.id))
      failedByName[j.errorName ?? "?"] = (failedByName[j.errorName ?? "?"] ?? 0) + 1;
  const ackedOutcomes = [...ackById.keys()].filter((id) => outcomeById.has(id) || deliveriesById.has(id)).length;

  const acknowledgedInvitations = new Set([...ackById.values()].map((a) => a.identifier)).size;
  const figures = {
    submitted: o.submitted,
    notAcknowledged: o.submitted - acknowledgedInvitations,
    acknowledged: ackById.size,
    outcomes: ackedOutcomes,
    lost: lost.length,
    lostAllowed: lostAllowed.length,
    lostNotAllowed: lostNotAllowed.length,
    lostNotAllowedJobUnfinished: lostUnfinished.length,
    lostSample: [...lostNotAllowed, ...lostAllowed].slice(0, 10).map((a) => ({
      jobId: a.jobId,
      allowed: droppedRequests.has(a.jobId),
      ...o.requestsWithoutOutcome[a.jobId],
    })),
    lostByState: countBy(
      lost.map((a) => {
        const s = o.requestsWithoutOutcome[a.jobId];
        return s ? `${s.state}/record ${s.record}${s.failedReason ? `: ${s.failedReason}` : ""}` : "?";
      }),
    ),
    duplicates: duplicateIds.size,
    duplicatesAllowed: allowedDuplicates.size,
    duplicatesNotAllowed: unexplainedDuplicates,
    duplicateDetail: {
      requestsWithSeveralEventIds: severalEventIds.length,
      requestsPublishedTwice: republished.length,
      requestsWithDifferentOutcomeTypes: differentTypes.length,
      firstPublicationDroppedWithAof: firstPublicationDropped.length,
      invitationsWithSeveralRequests: invitationsWithSeveralRequests.length,
      notAllowedSample: sample([...duplicateIds].filter((id) => !allowedDuplicates.has(id))),
      sample: sample(duplicateIds),
    },
    aofLoss: {
      hostCrashes: o.aofLosses.length,
      droppedBytes: o.aofLosses.reduce((sum, l) => sum + l.droppedBytes, 0),
      requestJobsDropped: droppedRequests.size,
      outcomesDropped: droppedOutcomes.size,
    },
    deliveries: o.deliveries.length,
    redeliveries,
    handlerThrows: o.thrown,
    invitationsActedOnTwice: actedOnTwice.length,
    invitationsWithSeveralClientTokens: severalTokens.length,
    recordsLeftOpen: o.openRecords.length,
    recordsLeftOpenSample: o.openRecords.slice(0, 10),
    requestJobsUnfinished: unfinished,
    requestJobsUnfinishedSample: Object.fromEntries(
      Object.entries(o.requestJobsUnfinished)
        .filter(([, ids]) => ids.length)
        .map(([s, ids]) => [s, sample(ids, 5)]),
    ),
    outcomesNotDelivered: notDelivered,
    parkedOutcomes: parked.length,
    parkedReported: o.parkedReported.length,
    outcomesDisagreeingWithAws: disagreeing.length,
    outcomesDisagreeingSample: sample(disagreeing),
    notJsonJobs: injected("not-json"),
    invalidJsonJobs: injected("invalid-json"),
    outcomeTypes: {
      accepted: o.outcomeJobs.filter((j) => j.type === "accepted" && !injectedIds.has(j.id)).length,
      alreadyAccepted: o.outcomeJobs.filter((j) => j.alreadyAccepted).length,
      failed: failedByName,
    },
    acceptCalls: o.acceptCalls.length,
    acceptCallsReplayed: o.acceptCalls.filter((c) => c.replayed).length,
    resubmission: o.resubmission,
  };

  const invariants: Record<InvariantName, Invariant> = {
    everyRequestAcknowledged: {
      pass: acknowledgedInvitations === o.submitted,
      value: o.submitted - acknowledgedInvitations,
      rule: "every request a producer was given is acknowledged in the end (producers retry until Redis takes it)",
    },
    noAcknowledgedRequestLost: {
      pass: lostNotAllowed.length === 0,
      value: lostNotAllowed.length,
      rule:
        "every acknowledged request gets an outcome, except one whose creation was among the writes " +
        "a simulated host crash (SIGKILL under appendfsync everysec) cut from the AOF",
    },
    lostRequestsRecoveredByResubmission: {
      pass: o.resubmission === null ? lost.length === 0 : o.resubmission.recovered === o.resubmission.resubmitted,
      value: o.resubmission === null ? lost.length : o.resubmission.resubmitted - o.resubmission.recovered,
      rule: "re-submitting a request left without outcome (same idempotency key) gets it an outcome",
    },
    noDuplicateOutcome: {
      pass: unexplainedDuplicates === 0,
      value: unexplainedDuplicates,
      rule:
        "one outcome event per request (one eventId, published once) and one request per invitation; " +
        "a republication is allowed only when the first publication was among the writes a simulated " +
        "host crash cut from the AOF",
    },
    noInvitationActedOnTwice: {
      pass: actedOnTwice.length === 0,
      value: actedOnTwice.length,
      rule: "at most one Accept answered 200 without replay per invitation",
    },
    oneClientTokenPerInvitation: {
      pass: severalTokens.length === 0,
      value: severalTokens.length,
      rule: "every Accept call of an invitation sends the same ClientToken",
    },
    noRecordLeftOpen: {
      pass: o.openRecords.length === 0,
      value: o.openRecords.length,
      rule: "no request record left queued or in_progress",
    },
    everyRequestJobFinished: {
      pass: unfinishedTotal === 0,
      value: unfinishedTotal,
      rule: "no request job left waiting, active, delayed or prioritized",
    },
    everyOutcomeDelivered: {
      pass: o.outcomeJobs.length > 0 ? Object.keys(notDelivered).length === 0 : true,
      value: Object.values(notDelivered).reduce((a, b) => a + b, 0),
      rule: "every outcome event handled by the consumer and acknowledged; none parked or left waiting",
    },
    outcomesAgreeWithAws: {
      pass: disagreeing.length === 0,
      value: disagreeing.length,
      rule: "accepted outcome ⇔ the invitation is ACCEPTED at AWS",
    },
    injectedJobsEnd: {
      pass: o.injectedJobs.every((j) => outcomeById.get(j.id)?.errorName === "InvalidJob"),
      value: o.injectedJobs.filter((j) => outcomeById.get(j.id)?.errorName !== "InvalidJob").length,
      rule: "a job whose data is not JSON, or breaks the job schema, ends with an InvalidJob outcome",
    },
  };
  return { figures, invariants, pass: Object.values(invariants).every((i) => i.pass) };
}

export type Evaluation = ReturnType<typeof evaluate>;
