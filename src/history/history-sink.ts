import { appendEvents, type AppendResult } from "./append.js";
import type { HistoryPool } from "./pool.js";

/**
 * The history as a sink of the outcome log (src/delivery's EventSink: `{ name, handle(events) }`),
 * run by each `deliver` process: it records each event once, however often it is handed over.
 * `handle` resolves once the batch is committed and throws when it is not (PostgreSQL down,
 * restarting, a timeout): the deliverer hands the same events again later, so none is lost.
 */
export interface HistorySink {
  readonly name: "history";
  handle(events: readonly unknown[]): Promise<void>;
}

export function createHistorySink(
  pool: HistoryPool,
  options: { onAppended?: (result: AppendResult) => void } = {},
): HistorySink {
  return {
    name: "history",
    async handle(events) {
      const result = await appendEvents(pool, events);
      options.onAppended?.(result);
    },
  };
}
