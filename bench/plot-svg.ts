/**
 * A tiny hand-written SVG line chart for the bench results: axes with round ticks, one polyline
 * per series, optional dashed or stepped lines, a legend. No dependencies; deterministic output.
 */

export interface Series {
  name: string;
  /** [x, y] points, x ascending. */
  points: ReadonlyArray<readonly [number, number]>;
  color: string;
  dashed?: boolean;
  /** Draw as a step function (the value holds until the next point). */
  step?: boolean;
  /** Line width, px. @defaultValue 1.5 */
  width?: number;
}

export interface ChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  series: readonly Series[];
  /** @defaultValue 900 */
  width?: number;
  /** @defaultValue 360 */
  height?: number;
  /** Axis ranges; default: 0 to the data's maximum (y with 5% headroom). */
  xMax?: number;
  yMax?: number;
}

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
const fmt = (x: number) => (Math.round(x * 100) / 100).toString();

/** Round tick step (1, 2 or 5 × 10^k) giving about `target` ticks over [0, max]. Pure. */
export function niceStep(max: number, target = 6): number {
  if (!(max > 0)) return 1;
  const raw = max / target;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / mag;
  return (norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 5 ? 5 : 10) * mag;
}

export function lineChartSvg(o: ChartOptions): string {
  const W = o.width ?? 900;
  const H = o.height ?? 360;
  const m = { left: 62, right: 190, top: 36, bottom: 48 };
  const pw = W - m.left - m.right;
  const ph = H - m.top - m.bottom;
  let dataX = 0;
  let dataY = 0;
  for (const s of o.series)
    for (const [x, y] of s.points) {
      if (x > dataX) dataX = x;
      if (y > dataY) dataY = y;
    }
  const xMax = o.xMax ?? (dataX || 1);
  const yStep = niceStep(o.yMax ?? dataY * 1.05);
  const yMax = o.yMax ?? Math.max(yStep, Math.ceil((dataY * 1.05) / yStep) * yStep);
  const xStep = niceStep(xMax, 10);
  const X = (x: number) => m.left + (Math.min(Math.max(x, 0), xMax) / xMax) * pw;
  const Y = (y: number) => m.top + ph - (Math.min(Math.max(y, 0), yMax) / yMax) * ph;

  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" ` +
      `viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
  );
  out.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  out.push(`<text x="${m.left}" y="22" font-size="15" font-weight="bold">${esc(o.title)}</text>`);
  for (let y = 0; y <= yMax + 1e-9; y += yStep) {
    out.push(`<line x1="${m.left}" x2="${m.left + pw}" y1="${fmt(Y(y))}" y2="${fmt(Y(y))}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${m.left - 6}" y="${fmt(Y(y) + 4)}" text-anchor="end" fill="#444">${fmt(y)}</text>`);
  }
  for (let x = 0; x <= xMax + 1e-9; x += xStep) {
    out.push(`<line x1="${fmt(X(x))}" x2="${fmt(X(x))}" y1="${m.top + ph}" y2="${m.top + ph + 4}" stroke="#444"/>`);
    out.push(`<text x="${fmt(X(x))}" y="${m.top + ph + 18}" text-anchor="middle" fill="#444">${fmt(x)}</text>`);
  }
  out.push(`<line x1="${m.left}" x2="${m.left + pw}" y1="${m.top + ph}" y2="${m.top + ph}" stroke="#444"/>`);
  out.push(`<line x1="${m.left}" x2="${m.left}" y1="${m.top}" y2="${m.top + ph}" stroke="#444"/>`);
  out.push(`<text x="${m.left + pw / 2}" y="${H - 10}" text-anchor="middle">${esc(o.xLabel)}</text>`);
  out.push(
    `<text transform="translate(16 ${m.top + ph / 2}) rotate(-90)" text-anchor="middle">${esc(o.yLabel)}</text>`,
  );

  o.series.forEach((s, i) => {
    const pts: string[] = [];
    s.points.forEach(([x, y], j) => {
      if (s.step && j > 0) pts.push(`${fmt(X(x))},${fmt(Y(s.points[j - 1]![1]))}`);
      pts.push(`${fmt(X(x))},${fmt(Y(y))}`);
    });
    const dash = s.dashed ? ` stroke-dasharray="6 4"` : "";
    out.push(
      `<polyline fill="none" stroke="${esc(s.color)}" ` +
        `stroke-width="${s.width ?? 1.5}"${dash} points="${pts.join(" ")}"/>`,
    );
    const ly = m.top + 8 + i * 20;
    out.push(
      `<line x1="${W - m.right + 14}" x2="${W - m.right + 40}" y1="${ly}" ` +
        `y2="${ly}" stroke="${esc(s.color)}" stroke-width="2.5"${dash}/>`,
    );
    out.push(`<text x="${W - m.right + 46}" y="${ly + 4}">${esc(s.name)}</text>`);
  });
  out.push(`</svg>`);
  return `${out.join("\n")}\n`;
}
