import { describe, expect, it } from "vitest";
import { evaluate, INVARIANT_NAMES, type Observations } from "../../chaos/evaluate.js";

const T = 1_000_000;
const ack = (n: number, at = T) => ({ jobId: `AWS.pacinv-${n}.x`, identifier: `pacinv-${n}`, at });
const delivery = (
  n: number,
  over: Partial<{ eventId: string; type: string; completedAt: string; at: number }> = {},
) => ({
  requestId: `AWS.pacinv-${n}.x`,
  eventId: `e-${n}`,
  type: "accepted",
  completedAt: "2026-11-30T00:00:00.000Z",
  identifier: `pacinv-${n}`,
  at: T + 100,
  ...over,
});
const outcome = (n: number, over: Partial<{ state: string; type: string; errorName: string | null }> = {}) => ({
  id: `AWS.pacinv-${n}.x`,
  state: "completed",
  type: "accepted",
  identifier: `pacinv-${n}`,
  alreadyAccepted: false,
  errorName: null,
  ...over,
});
const call = (n: number, over: Partial<{ clientToken: string; status: number; replayed: boolean }> = {}) => ({
  identifier: `pacinv-${n}`,
  clientToken: `tok-${n}`,
  status: 200,
  replayed: false,
  ...over,
});

/** Two requests, both accepted, delivered once, nothing left behind. */
function clean(): Observations {
  return {
    submitted: 2,
    acks: [ack(1), ack(2)],
    deliveries: [delivery(1), delivery(2)],
    thrown: 0,
    parkedReported: [],
    outcomeJobs: [outcome(1), outcome(2)],
    requestJobsUnfinished: {},
    openRecords: [],
    acceptCalls: [call(1), call(2)],
    invitationStatus: new Map([
      ["pacinv-1", "ACCEPTED"],
      ["pacinv-2", "ACCEPTED"],
    ]),
    injectedJobs: [],
    aofLosses: [],
    resubmission: null,
    requestsWithoutOutcome: {},
  };
}

/** A simulated host crash that cut the creation of these request jobs and outcomes from the AOF. */
const crash = (over: Partial<{ at: number; requestJobs: string[]; outcomes: string[] }> = {}) => ({
  at: T,
  droppedBytes: 1000,
  requestJobs: [],
  outcomes: [],
  ...over,
});

const failing = (o: Observations) =>
  Object.entries(evaluate(o).invariants)
    .filter(([, v]) => !v.pass)
    .map(([k]) => k);

describe("chaos evaluate", () => {
  it("passes a clean run", () => {
    const r = evaluate(clean());
    expect(Object.keys(r.invariants)).toEqual([...INVARIANT_NAMES]);
    expect(r.pass).toBe(true);
    expect(r.figures).toMatchObject({ acknowledged: 2, outcomes: 2, lost: 0, duplicates: 0, redeliveries: 0 });
  });

  it(
    "counts an acknowledged request without outcome as lost, " +
      "allowed only when a host crash cut its creation from the AOF",
    () => {
      const o = clean();
      o.deliveries.pop();
      o.outcomeJobs.pop();
      expect(failing(o)).toEqual(["noAcknowledgedRequestLost", "lostRequestsRecoveredByResubmission"]);
      o.aofLosses.push(crash({ requestJobs: ["AWS.pacinv-2.x"] }));
      expect(failing(o)).toEqual(["lostRequestsRecoveredByResubmission"]);
      expect(evaluate(o).figures).toMatchObject({ lost: 1, lostAllowed: 1, lostNotAllowed: 0 });
      o.resubmission = { resubmitted: 1, recovered: 1, newRequests: 1 };
      expect(failing(o)).toEqual([]);
    },
  );

  it("does not excuse a loss for its timing: acknowledged just before the crash, its creation kept", () => {
    // The request was acknowledged 100 ms before Redis was killed, but its job and record were
    // written before the cut: Redis still had it after the restart, so its loss is the system's.
    const o = clean();
    o.deliveries.pop();
    o.outcomeJobs.pop();
    o.acks[1] = ack(2, T - 100);
    o.aofLosses.push(crash({ at: T, requestJobs: ["AWS.pacinv-7.x"] }));
    o.resubmission = { resubmitted: 1, recovered: 1, newRequests: 0 };
    expect(failing(o)).toEqual(["noAcknowledgedRequestLost"]);
    expect(evaluate(o).figures).toMatchObject({ lost: 1, lostAllowed: 0, lostNotAllowed: 1 });
    expect(evaluate(o).figures.lostSample).toMatchObject([{ jobId: "AWS.pacinv-2.x", allowed: false }]);
    // Still waiting when the harness stopped waiting: not allowed either, and said apart (a timeout).
    expect(evaluate(o).figures.lostNotAllowedJobUnfinished).toBe(0);
    o.requestsWithoutOutcome["AWS.pacinv-2.x"] = {
      state: "waiting",
      failedReason: null,
      attemptsMade: 1,
      stalledCounter: 0,
      record: "queued",
    };
    expect(failing(o)).toEqual(["noAcknowledgedRequestLost"]);
    expect(evaluate(o).figures).toMatchObject({ lostNotAllowed: 1, lostNotAllowedJobUnfinished: 1 });
  });

  it("allows a loss the crash explains whatever the clocks say (acknowledged long before the kill)", () => {
    // A loaded machine: the producer's acknowledgement came 3 s before the harness's SIGKILL, the
    // position the AOF was cut back to was read late, and the request's creation was cut.
    const o = clean();
    o.deliveries.pop();
    o.outcomeJobs.pop();
    o.acks[1] = ack(2, T - 3000);
    o.aofLosses.push(crash({ at: T, requestJobs: ["AWS.pacinv-2.x"] }));
    o.resubmission = { resubmitted: 1, recovered: 1, newRequests: 1 };
    expect(failing(o)).toEqual([]);
    expect(evaluate(o).figures).toMatchObject({ lost: 1, lostAllowed: 1, lostNotAllowed: 0 });
  });

  it("allows redelivery of the same event, not a second publication or a second eventId", () => {
    const o = clean();
    o.deliveries.push(delivery(1, { at: T + 500 }));
    expect(evaluate(o).figures).toMatchObject({ redeliveries: 1, duplicates: 0 });
    expect(failing(o)).toEqual([]);

    o.deliveries.push(delivery(2, { completedAt: "2026-11-30T00:00:09.000Z" }));
    expect(failing(o)).toEqual(["noDuplicateOutcome"]);
    expect(evaluate(o).figures).toMatchObject({ duplicates: 1, duplicatesAllowed: 0, duplicatesNotAllowed: 1 });
    // …unless its first publication was among the writes a host crash cut from the AOF.
    o.aofLosses.push(crash({ outcomes: ["AWS.pacinv-1.x"] }));
    expect(failing(o)).toEqual(["noDuplicateOutcome"]);
    o.aofLosses.push(crash({ outcomes: ["AWS.pacinv-2.x"] }));
    expect(failing(o)).toEqual([]);
    expect(evaluate(o).figures).toMatchObject({ duplicates: 1, duplicatesAllowed: 1, duplicatesNotAllowed: 0 });

    // Never two eventIds, whatever was cut.
    o.deliveries.push(delivery(2, { eventId: "another" }));
    expect(failing(o)).toEqual(["noDuplicateOutcome"]);
  });

  it("judges a republication by what the crash cut, not by when the first one was stamped", () => {
    const published = Date.parse("2026-11-30T00:00:00.000Z");
    // Stamped 3 s before the crash, written to Redis after the cut (a worker held up on a loaded
    // machine, a command queued while Redis was away): the crash explains it.
    const late = clean();
    late.deliveries.push(delivery(2, { completedAt: "2026-11-30T00:00:09.000Z" }));
    late.aofLosses.push(crash({ at: published + 3000, outcomes: ["AWS.pacinv-2.x"] }));
    expect(failing(late)).toEqual([]);
    // Stamped 100 ms before the crash but written before the cut: Redis still had the outcome, so a
    // second publication is the system's doing.
    const kept = clean();
    kept.deliveries.push(delivery(2, { completedAt: "2026-11-30T00:00:09.000Z" }));
    kept.aofLosses.push(crash({ at: published + 100, outcomes: ["AWS.pacinv-5.x"] }));
    expect(failing(kept)).toEqual(["noDuplicateOutcome"]);
    expect(evaluate(kept).figures.duplicateDetail).toMatchObject({
      requestsPublishedTwice: 1,
      firstPublicationDroppedWithAof: 0,
      notAllowedSample: ["AWS.pacinv-2.x"],
    });
  });

  it("fails a request a producer never got acknowledged", () => {
    const o = clean();
    o.submitted = 3;
    expect(failing(o)).toEqual(["everyRequestAcknowledged"]);
    expect(evaluate(o).figures).toMatchObject({ submitted: 3, notAcknowledged: 1 });
  });

  it("fails an invitation called with two ClientTokens, or acted on twice", () => {
    const twoTokens = clean();
    twoTokens.acceptCalls.push(call(1, { clientToken: "other", status: 409 }));
    expect(failing(twoTokens)).toEqual(["oneClientTokenPerInvitation"]);
    const twice = clean();
    twice.acceptCalls.push(call(2));
    expect(failing(twice)).toEqual(["noInvitationActedOnTwice"]);
    const replayed = clean();
    replayed.acceptCalls.push(call(2, { replayed: true }));
    expect(failing(replayed)).toEqual([]);
  });

  it("fails an outcome that contradicts AWS, an open record, an unfinished job, an undelivered outcome", () => {
    const o = clean();
    o.invitationStatus.set("pacinv-2", "PENDING");
    o.openRecords.push({ jobId: "AWS.pacinv-3.x", state: "in_progress" });
    o.requestJobsUnfinished = { active: ["AWS.pacinv-3.x"], waiting: [] };
    o.outcomeJobs[0]!.state = "failed";
    expect(failing(o)).toEqual([
      "noRecordLeftOpen",
      "everyRequestJobFinished",
      "everyOutcomeDelivered",
      "outcomesAgreeWithAws",
    ]);
    expect(evaluate(o).figures).toMatchObject({ parkedOutcomes: 1, requestJobsUnfinished: { active: 1 } });
  });

  it("wants an InvalidJob outcome for every injected job", () => {
    const o = clean();
    o.injectedJobs.push({ id: "chaos-notjson-1", kind: "not-json" }, { id: "chaos-invalid-1", kind: "invalid-json" });
    o.outcomeJobs.push({
      id: "chaos-invalid-1",
      state: "completed",
      type: "failed",
      identifier: null,
      alreadyAccepted: false,
      errorName: "InvalidJob",
    });
    expect(failing(o)).toEqual(["injectedJobsEnd"]);
    expect(evaluate(o).figures.notJsonJobs).toMatchObject({
      injected: 1,
      withOutcome: 0,
      withoutOutcome: ["chaos-notjson-1"],
    });
    expect(evaluate(o).figures.invalidJsonJobs).toMatchObject({ injected: 1, invalidJobOutcome: 1 });
  });
});
