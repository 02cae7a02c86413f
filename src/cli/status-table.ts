import type { StatusReport } from "../store/status.js";

/**
 * The status report as a person reads it on a terminal: one line per figure, the detail after it.
 * Pure (the command prints it); `status --json` prints the report itself.
 */
export function formatStatus(report: StatusReport, queue: string): string {
  const b = report.backlog;
  const r = report.rate;
  const lines: Array<[string, string]> = [];
  lines.push([
    "Backlog",
    `${n(b.total)} request(s)  (waiting ${n(b.waiting)}, prioritized ${n(b.prioritized)}, delayed ${n(b.delayed)}, ` +
      `active ${n(b.active)})${report.queuePaused ? "  QUEUE PAUSED: no worker takes jobs" : ""}`,
  ]);
  lines.push([
    "Oldest waiting",
    report.oldestWaiting
      ? `${report.oldestWaiting.id}, enqueued ${duration(report.oldestWaiting.ageMs)} ago`
      : "none waiting",
  ]);
  const throttles = r.limits.reduce((a, l) => a + l.throttles, 0);
  const lastThrottle = r.limits
    .map((l) => l.lastThrottleAt)
    .filter((t): t is string => t !== null)
    .sort()
    .at(-1);
  const blocked = Math.max(0, ...r.limits.map((l) => l.blockedForMs));
  lines.push([
    "Rate",
    r.limits.length === 0
      ? "no limit known yet (RATE_LIMIT_KEY has {catalog} and no worker has called yet)"
      : `${rate(r.admittedPerSecond)} calls/s admitted (last minute), limit ${rate(r.limit)} calls/s, ` +
        `ceiling ${rate(r.ceiling)} calls/s; ${n(throttles)} throttle(s)` +
        (lastThrottle ? `, last at ${lastThrottle}` : "") +
        (blocked > 0 ? `; blocked by a Retry-After for ${duration(blocked)}` : ""),
  ]);
  for (const l of r.limits.length > 1 ? r.limits : []) {
    lines.push([
      `  ${l.limitKey}`,
      `${rate(l.admittedPerSecond)} calls/s admitted, limit ${rate(l.rate)}, ceiling ${rate(l.ceiling)}, ` +
        `${n(l.throttles)} throttle(s)`,
    ]);
  }
  const d = report.drain;
  lines.push([
    "Time to drain",
    b.total === 0
      ? "nothing to drain"
      : d.seconds !== null
        ? `${duration(d.seconds * 1000)}  (${n(b.total)} request(s) ÷ ${rate(r.admittedPerSecond)} calls/s admitted ` +
          "over the last minute)"
        : `unknown: no call admitted in the last minute` +
          (d.atLimitSeconds !== null ? `; at the limit: ${duration(d.atLimitSeconds * 1000)}` : ""),
  ]);
  const w = report.workers;
  lines.push([
    "Workers alive",
    `${n(w.alive)}${w.alive > 0 ? ` (${n(w.alive - w.paused)} taking jobs, ${n(w.paused)} paused)` : ""}` +
      (w.alive > 0
        ? `: ${w.list
            .slice(0, 5)
            .map((x) => `${x.host}:${x.pid}`)
            .join(", ")}${w.list.length > 5 ? ", …" : ""}`
        : ""),
  ]);
  lines.push([
    "Fault pause",
    report.faultPause.length === 0
      ? "none"
      : report.faultPause
          .map(
            (f) =>
              `${f.host}:${f.pid} paused since ${f.since}: ${f.error.name} (${f.error.message}); ` +
              `next try in up to ${duration(f.pauseMs)}`,
          )
          .join("\n"),
  ]);
  const f = report.finished;
  lines.push([
    "Finished",
    `completed ${n(f.completed)}, failed ${n(f.failed)} (kept for RETENTION_SECONDS); ` +
      `${n(f.withoutOutcome.count)} failed without an outcome among the newest ${n(f.withoutOutcome.checked)}`,
  ]);
  const o = report.outcomes;
  lines.push([
    "Outcomes",
    `${n(o.waiting)} waiting for a consumer, ${n(o.active)} being handled, ${n(o.parked)} parked` +
      (o.parked > 0 ? " (pc-invitations outcomes --parked)" : ""),
  ]);
  const width = Math.max(...lines.map(([k]) => k.length)) + 2;
  const body = lines.map(([k, v]) =>
    v
      .split("\n")
      .map((line, i) => `${(i === 0 ? k : "").padEnd(width)}${line}`)
      .join("\n"),
  );
  return [`pc-invitations status of ${queue} at ${report.at}`, ...body].join("\n");
}

/** 12345 → "12,345" */
function n(value: number): string {
  return value.toLocaleString("en-US");
}

function rate(value: number): string {
  return value >= 10 ? value.toFixed(0) : value.toFixed(value >= 1 ? 1 : 2).replace(/\.?0+$/, "") || "0";
}

/** 10_000_000 ms → "2.8 h"; 2_520_000 → "42 min"; 35_000 → "35 s"; 400 → "0.4 s". */
export function duration(ms: number): string {
  const s = ms / 1000;
  if (s < 10) return `${Number(s.toFixed(1))} s`;
  if (s < 120) return `${Math.round(s)} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  if (s < 172_800) return `${Number((s / 3600).toFixed(1))} h`;
  return `${Number((s / 86_400).toFixed(1))} d`;
}
