import { operationDone } from "../operations/index.js";
import type { OutcomeEvent } from "../contracts/outcome.js";

export const ACCEPTANCE_STATES = [
  "waiting",
  "active",
  "delayed",
  "completed",
  "failed",
  "prioritized",
  "canceled",
  "unknown",
] as const;
export type AcceptanceState = (typeof ACCEPTANCE_STATES)[number];

export interface AcceptanceStatus {
  id: string;
  state: AcceptanceState;
  /** API calls made: the outcome's count once there is one, before that the job's attempts made. */
  attempts: number;
  outcome: OutcomeEvent | null;
}

/** The part of a BullMQ Queue/Job that a status lookup reads. */
export interface JobReader {
  getJob(id: string): Promise<{ data: unknown; attemptsMade: number; getState(): Promise<string> } | undefined | null>;
}

/**
 * Status of one request, from its job on the requests queue and its outcome job on the outcomes
 * queue (same id). Either may be gone (retention): with only the outcome left, the state follows
 * the outcome (accepted, rejected → completed; failed → failed; canceled → canceled). A canceled
 * request is `canceled` whatever its job says (a cancel that died before removing the job leaves
 * it waiting, to finish without a call). Undefined when neither exists.
 */
export async function readAcceptanceStatus(
  requests: JobReader,
  outcomes: JobReader,
  id: string,
): Promise<AcceptanceStatus | undefined> {
  const [job, outcomeJob] = await Promise.all([requests.getJob(id), outcomes.getJob(id)]);
  if (!job && !outcomeJob) return undefined;
  const outcome = outcomeJob ? (outcomeJob.data as OutcomeEvent) : null;
  const jobState = job ? await job.getState() : undefined;
  return toAcceptanceStatus(
    id,
    job ? { state: jobState ?? "unknown", attemptsMade: job.attemptsMade } : undefined,
    outcome,
  );
}

/** Pure part of the lookup. */
export function toAcceptanceStatus(
  id: string,
  job: { state: string; attemptsMade: number } | undefined,
  outcome: OutcomeEvent | null,
): AcceptanceStatus {
  const state: AcceptanceState =
    outcome?.type === "canceled"
      ? "canceled"
      : job
        ? (ACCEPTANCE_STATES as readonly string[]).includes(job.state)
          ? (job.state as AcceptanceState)
          : "unknown"
        : outcome && operationDone(outcome.type)
          ? "completed"
          : outcome?.type === "failed"
            ? "failed"
            : "unknown";
  return { id, state, attempts: outcome?.attempts ?? job?.attemptsMade ?? 0, outcome };
}
