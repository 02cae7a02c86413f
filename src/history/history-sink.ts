import type { LoggedEvent } from "../store/outcome-log.js";
import { appendEvents, type AppendResult } from "./append.js";
import type { HistoryPool } from "./pool.js";

/**
 * The history as a sink of the outcome log (delivery/event-sink.ts's EventSink, `{ name, handle }`),
 * run by the `deliver` fleet (runSink: one holder of its lease at a time, every entry at least
 * once, in log order). It records each event once, however often it is handed over: `handle`
 * resolves once the batch is committed and throws when it is not (PostgreSQL down, restarting, a
 * timeout), and runSink hands the same entries again, so none is lost.
 */
export interface HistorySink {
  readonly name: "history";
  handle(events: readonly Pick<LoggedEvent, "event">[]): Promise<void>;
}

export function createHistorySink(
  pool: HistoryPool,
  options: { onAppended?: (result: AppendResult) => void } = {},
): HistorySink {
  return {
    name: "history",
    async handle(entries) {
      const result = await appendEvents(
        pool,
        entries.map((e) => e.event),
      );
      options.onAppended?.(result);
    },
  };
}
