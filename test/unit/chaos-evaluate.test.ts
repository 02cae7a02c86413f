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
    fsyncLossWindows: [],
    resubmission: null,
    requestsWithoutOutcome: {},
  };
}

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
      "unless it was acknowledged just before an everysec SIGKILL",
    () => {
      const o = clean();
      o.deliveries.pop();
      o.outcomeJobs.pop();
      expect(failing(o)).toEqual(["noAcknowledgedRequestLost", "lostRequestsRecoveredByResubmission"]);
      o.fsyncLossWindows.push({ from: T - 2000, to: T + 10 });
      expect(failing(o)).toEqual(["lostRequestsRecoveredByResubmission"]);
      expect(evaluate(o).figures).toMatchObject({ lost: 1, lostInFsyncWindow: 1 });
      o.resubmission = { resubmitted: 1, recovered: 1, newRequests: 1 };
      expect(failing(o)).toEqual([]);
    },
  );

  it("allows redelivery of the same event, not a second publication or a second eventId", () => {
    const o = clean();
    o.deliveries.push(delivery(1, { at: T + 500 }));
    expect(evaluate(o).figures).toMatchObject({ redeliveries: 1, duplicates: 0 });
    expect(failing(o)).toEqual([]);

    o.deliveries.push(delivery(2, { completedAt: "2026-11-30T00:00:09.000Z" }));
    expect(failing(o)).toEqual(["noDuplicateOutcome"]);
    // …unless the first publication was lost with the last second of an everysec AOF: judged by
    // when it was published, not when it was delivered.
    const published = Date.parse("2026-11-30T00:00:00.000Z");
    o.fsyncLossWindows.push({ from: T, to: T + 1000 });
    expect(failing(o)).toEqual(["noDuplicateOutcome"]);
    o.fsyncLossWindows.push({ from: published - 1500, to: published + 10 });
    expect(failing(o)).toEqual([]);

    o.deliveries.push(delivery(1, { eventId: "another" }));
    expect(failing(o)).toEqual(["noDuplicateOutcome"]);
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
