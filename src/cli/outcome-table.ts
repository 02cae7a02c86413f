import type { OutcomeEvent } from "../contracts/outcome.js";
import { operationDone } from "../operations/index.js";

/**
 * Outcome events as a table for people at a terminal, one row per event as it arrives:
 * identifier, outcome, the connection id (accepted) or the error name and reason (failed), attempts.
 * Pure: returns lines; the caller writes them.
 */
const COLUMNS = [
  { title: "identifier", width: 20 },
  { title: "outcome", width: 18 },
  { title: "connection / error", width: 76 },
  { title: "attempts", width: 8 },
] as const;

const cell = (text: string, width: number) =>
  text.length > width ? `${text.slice(0, width - 1)}…` : text.padEnd(width);
const row = (values: readonly string[]) =>
  values
    .map((v, i) => cell(v, COLUMNS[i]!.width))
    .join("  ")
    .trimEnd();

export function tableHeader(): string[] {
  return [row(COLUMNS.map((c) => c.title)), row(COLUMNS.map((c) => "─".repeat(c.width)))];
}

export function tableRow(event: OutcomeEvent): string {
  return row([event.identifier ?? "(invalid job)", ...outcomeCells(event), String(event.attempts)]);
}

/** The outcome and the connection / error columns of one event. */
function outcomeCells(event: OutcomeEvent): [string, string] {
  if (event.type === "canceled") return ["canceled", event.reason ?? ""];
  if (event.type === "failed") {
    const { name, reason, invitationStatus } = event.error;
    return ["failed", `${name}${reason ? `: ${reason}` : ""}${invitationStatus ? ` (${invitationStatus})` : ""}`];
  }
  // An operation's outcome says itself how it reads (src/operations).
  const op = operationDone(event.type);
  if (!op) return [event.type, ""];
  const { outcome, detail } = op.describeOutcome(event);
  return [outcome, detail];
}

export interface OutcomeSummary {
  requests: number;
  outcomes: number;
  accepted: number;
  alreadyAccepted: number;
  failed: number;
  failures: string[];
  acceptCalls: number;
}

export function summarize(events: readonly OutcomeEvent[], requests: number, acceptCalls: number): OutcomeSummary {
  return {
    requests,
    outcomes: events.length,
    accepted: events.filter((e) => e.type === "accepted").length,
    alreadyAccepted: events.filter((e) => e.type === "accepted" && e.alreadyAccepted).length,
    failed: events.filter((e) => e.type === "failed").length,
    failures: events.flatMap((e) =>
      e.type === "failed" ? [`${e.error.name}${e.error.reason ? `/${e.error.reason}` : ""}`] : [],
    ),
    acceptCalls,
  };
}

export function summaryLine(s: OutcomeSummary): string {
  return (
    `${s.requests} requests, ${s.outcomes} outcomes: ${s.accepted} accepted (${s.alreadyAccepted} already accepted), ` +
    `${s.failed} failed; ${s.acceptCalls} AcceptConnectionInvitation calls`
  );
}
