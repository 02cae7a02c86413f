import { describe, expect, it } from "vitest";
import { lineChartSvg, niceStep } from "../../bench/plot-svg.js";

describe("bench plot-svg", () => {
  it.each([
    [100, 6, 20],
    [60, 6, 10],
    [7, 6, 2],
    [0.3, 6, 0.05],
    [0, 6, 1],
  ])("niceStep(%d, %d) = %d", (max, target, step) => {
    expect(niceStep(max, target)).toBeCloseTo(step, 10);
  });

  it("draws one polyline per series inside the canvas, with an escaped legend", () => {
    const svg = lineChartSvg({
      title: "calls <per> second",
      xLabel: "t",
      yLabel: "n",
      series: [
        {
          name: "a & b",
          points: [
            [0, 0],
            [1, 50],
            [2, 500],
          ],
          color: "#123456",
        },
        {
          name: "limit",
          points: [
            [0, 40],
            [2, 40],
          ],
          color: "#555",
          dashed: true,
          step: true,
        },
      ],
      yMax: 100,
    });
    expect(svg.startsWith("<svg")).toBe(true);
    expect(svg.match(/<polyline/g)).toHaveLength(2);
    expect(svg).toContain("a &amp; b");
    expect(svg).toContain("calls &lt;per&gt; second");
    const coords = [...svg.matchAll(/points="([^"]+)"/g)].flatMap((m) =>
      m[1]!.split(" ").map((p) => p.split(",").map(Number)),
    );
    for (const [x, y] of coords) {
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThanOrEqual(900);
      expect(y).toBeGreaterThanOrEqual(0); // 500 is clamped to the 100 of yMax
      expect(y).toBeLessThanOrEqual(360);
    }
  });
});
