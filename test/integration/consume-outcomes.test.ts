import { describe, expect, it } from "vitest";
import { consumeOutcomes } from "../../src/outcomes/consume.js";
import type { OutcomeEvent } from "../../src/schemas/outcome.js";
import { startPipeline } from "../helpers/pipeline.js";
import { waitForOutcomes } from "../helpers/outcomes.js";
import { waitFor } from "../helpers/wait.js";

describe("consumeOutcomes", () => {
  it("retries an outcome whose handler threw instead of losing it", async () => {
    const p = await startPipeline({ label: "consume" });
    try {
      const invs = p.emulator.seedInvitations(2);
      await p.producer.enqueueMany(invs.map((i) => ({ catalog: i.catalog, identifier: i.identifier })));
      await p.startWorker();
      await waitForOutcomes(p.redis, p.prefix, 2);

      const seen: string[] = [];
      const handled = new Map<string, OutcomeEvent>();
      let failuresLeft = 2;
      const consumer = consumeOutcomes(
        (event) => {
          seen.push(event.requestId);
          if (event.identifier === invs[0]!.identifier && failuresLeft-- > 0) throw new Error("downstream unavailable");
          handled.set(event.requestId, event);
        },
        { redis: p.redis, prefix: p.prefix, retryDelayMs: 20 },
      );
      await waitFor(() => handled.size === 2 || undefined, 10_000, "both outcomes handled");
      await consumer.close();
      const first = [...handled.values()].find((e) => e.identifier === invs[0]!.identifier)!.requestId;
      expect(seen.filter((id) => id === first)).toHaveLength(3);
      expect([...handled.values()].map((e) => e.identifier).sort()).toEqual(invs.map((i) => i.identifier).sort());
    } finally {
      await p.close();
    }
  });
});
