import { IdempotencyConflictError } from "../errors/index.js";
import type { RecordState } from "../request-record/record.js";
import type { ReservationPreview } from "../request-record/record.js";
import type { EnqueueResult } from "./producer.js";

/**
 * What became of one request of a batch whose conflicts are set aside (`null` jobId: a dry run's
 * new request). `result` is what enqueueMany returned for it (not in a dry run).
 */
export type Disposition =
  | { disposition: "enqueued"; jobId: string | null; result?: EnqueueResult }
  | { disposition: "duplicate"; jobId: string; state: RecordState; result?: EnqueueResult }
  | { disposition: "conflict"; idempotencyKey: string; existingJobId: string; differences: string[] };

type Conflict = { idempotencyKey: string; existingJobId: string; differences: string[]; firstIndex?: number };

/**
 * Enqueues a batch in one call and, where requests reuse an idempotency key with another payload
 * (which refuses the whole call: the library's rule for a batch), sets them aside as conflicts and
 * sends the rest again, until every other request is in. Results in request order.
 *
 * enqueueMany reports one conflict per call; `preview` (read-only, one round trip) finds all of
 * them at the first refusal, so a batch with many conflicts is sent twice, not once per conflict
 * (each send runs a script that holds Redis for the whole batch). Without `preview`, or when a
 * conflict appears after it, the refusal's own conflict is set aside and the batch sent again.
 * A conflict with an earlier request of the same batch names the job that request got in the end.
 * Any other error is thrown (nothing of the failed call was written; earlier calls stand).
 */
export async function enqueueEach(
  enqueueMany: (requests: readonly unknown[]) => Promise<EnqueueResult[]>,
  requests: readonly unknown[],
  preview?: (requests: readonly unknown[]) => Promise<ReservationPreview[]>,
): Promise<Disposition[]> {
  const out: Disposition[] = new Array<Disposition>(requests.length);
  let pending = requests.map((request, index) => ({ request, index }));
  const firstUses = new Map<number, number>(); // a conflict's request index → its key's first use in the batch
  while (pending.length > 0) {
    try {
      const results = await enqueueMany(pending.map((p) => p.request));
      pending.forEach((p, i) => {
        const r = results[i]!;
        out[p.index] = r.duplicate
          ? { disposition: "duplicate", jobId: r.jobId, state: r.state, result: r }
          : { disposition: "enqueued", jobId: r.jobId, result: r };
      });
      for (const [conflict, first] of firstUses) {
        const written = out[first];
        if (written?.disposition !== "conflict" && written?.jobId && out[conflict]?.disposition === "conflict")
          out[conflict] = { ...out[conflict], existingJobId: written.jobId };
      }
      break;
    } catch (err) {
      if (!(err instanceof IdempotencyConflictError) || err.index === undefined || pending[err.index] === undefined)
        throw err;
      const conflicts = new Map<number, Conflict>();
      for (const [i, p] of (preview ? await preview(pending.map((q) => q.request)) : []).entries())
        if (p.verdict === "conflict") conflicts.set(i, p);
      if (!conflicts.has(err.index)) conflicts.set(err.index, err);
      for (const [at, c] of conflicts) {
        out[pending[at]!.index] = {
          disposition: "conflict",
          idempotencyKey: c.idempotencyKey,
          existingJobId: c.existingJobId,
          differences: c.differences,
        };
        if (c.firstIndex !== undefined && pending[c.firstIndex])
          firstUses.set(pending[at]!.index, pending[c.firstIndex]!.index);
      }
      pending = pending.filter((_, i) => !conflicts.has(i));
    }
  }
  return out;
}

/** The dry-run counterpart of enqueueEach: the same dispositions, read from a preview (nothing written). */
export function previewedDispositions(previews: readonly ReservationPreview[]): Disposition[] {
  return previews.map((p): Disposition => {
    if (p.verdict === "conflict")
      return {
        disposition: "conflict",
        idempotencyKey: p.idempotencyKey,
        existingJobId: p.existingJobId,
        differences: p.differences,
      };
    if (p.verdict === "duplicate") return { disposition: "duplicate", jobId: p.jobId, state: p.state };
    return { disposition: "enqueued", jobId: null };
  });
}
