import { IdempotencyConflictError } from "../errors/index.js";
import type { RecordState } from "../request-record/record.js";
import type { ReservationPreview } from "./reserve.js";
import type { EnqueueResult } from "./producer.js";

/** What became of one request of a batch whose conflicts are set aside (`null` jobId: a dry run's new request). */
export type Disposition =
  | { disposition: "enqueued"; jobId: string | null }
  | { disposition: "duplicate"; jobId: string; state: RecordState }
  | { disposition: "conflict"; existingJobId: string; differences: string[] };

/**
 * Enqueues a batch in one call and, where one request reuses an idempotency key with another
 * payload (which refuses the whole call: the library's rule for a batch), sets that one aside as a
 * conflict and sends the rest again, until every other request is in. Results in request order.
 * A conflict with an earlier request of the same batch names the job that request got in the end.
 * Any other error is thrown (nothing of the failed call was written; earlier calls stand).
 */
export async function enqueueEach(enqueueMany: (requests: readonly unknown[]) => Promise<EnqueueResult[]>, requests: readonly unknown[]): Promise<Disposition[]> {
  const out: Disposition[] = new Array<Disposition>(requests.length);
  let pending = requests.map((request, index) => ({ request, index }));
  const firstUses = new Map<number, number>(); // a conflict's request index → its key's first use in the batch
  while (pending.length > 0) {
    try {
      const results = await enqueueMany(pending.map((p) => p.request));
      pending.forEach((p, i) => {
        const r = results[i]!;
        out[p.index] = r.duplicate ? { disposition: "duplicate", jobId: r.jobId, state: r.state } : { disposition: "enqueued", jobId: r.jobId };
      });
      for (const [conflict, first] of firstUses) {
        const written = out[first];
        if (written?.disposition !== "conflict" && written?.jobId && out[conflict]?.disposition === "conflict") out[conflict] = { ...out[conflict], existingJobId: written.jobId };
      }
      break;
    } catch (err) {
      if (!(err instanceof IdempotencyConflictError) || err.index === undefined || pending[err.index] === undefined) throw err;
      const at = err.index;
      out[pending[at]!.index] = { disposition: "conflict", existingJobId: err.existingJobId, differences: err.differences };
      if (err.firstIndex !== undefined && pending[err.firstIndex]) firstUses.set(pending[at]!.index, pending[err.firstIndex]!.index);
      pending = pending.filter((_, i) => i !== at);
    }
  }
  return out;
}

/** The dry-run counterpart of enqueueEach: the same dispositions, read from a preview (nothing written). */
export function previewedDispositions(previews: readonly ReservationPreview[]): Disposition[] {
  return previews.map((p): Disposition => {
    if (p.verdict === "conflict") return { disposition: "conflict", existingJobId: p.existingJobId, differences: p.differences };
    if (p.verdict === "duplicate") return { disposition: "duplicate", jobId: p.jobId, state: p.state };
    return { disposition: "enqueued", jobId: null };
  });
}
