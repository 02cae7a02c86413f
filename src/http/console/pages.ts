import type { StatusReport } from "../../store/status.js";
import type { FieldIssue } from "../../schemas/issues.js";
import type { AcceptanceStatus } from "../acceptance-status.js";
import type { RedriveSummary } from "../../producer/redrive.js";
import type { RateLimitState } from "../../ratelimit/shared-rate-limiter.js";
import {
  csrfField,
  describedBy,
  duration,
  esc,
  fieldError,
  formErrors,
  Html,
  html,
  layout,
  num,
  type PageContext,
} from "./html.js";

/** The pages of the console, each a pure function of what it shows. */

export function loginPage(options: {
  error?: string;
  issues?: FieldIssue[];
  username?: string;
  next?: string;
}): string {
  const { issues } = options;
  return html`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Log in · pc-invitations</title>
<link rel="stylesheet" href="/console/assets/console.css">
</head>
<body>
<main id="main" class="login">
<h1>pc-invitations console</h1>
${options.error ? html`<p class="error" role="alert">${options.error}</p>` : ""}
<form method="post" action="/login">
<input type="hidden" name="next" value="${options.next ?? "/"}">
<div class="field"><label for="username">Username</label>
<input id="username" name="username" autocomplete="username" required value="${options.username ?? ""}"${describedBy("username", issues, "username")}>
${fieldError("username", issues, "username")}</div>
<div class="field"><label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required${describedBy("password", issues, "password")}>
${fieldError("password", issues, "password")}</div>
<button type="submit" class="primary">Log in</button>
</form>
</main>
</body>
</html>`.value;
}

export function messagePage(ctx: PageContext | undefined, title: string, message: string): string {
  if (!ctx)
    return html`<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>${title} · pc-invitations</title>
<link rel="stylesheet" href="/console/assets/console.css"></head>
<body><main id="main"><h1>${title}</h1><p role="alert">${message}</p><p><a href="/login">Log in</a></p></main></body></html>`
      .value;
  return layout(ctx, title, html`<p role="alert">${message}</p><p><a href="/">Back to the overview</a></p>`);
}

export function overviewPage(ctx: PageContext, s: StatusReport): string {
  const b = s.backlog;
  const r = s.rate;
  const throttles = r.limits.reduce((a, l) => a + l.throttles, 0);
  const lastThrottle = r.limits
    .map((l) => l.lastThrottleAt)
    .filter((t): t is string => t !== null)
    .sort()
    .at(-1);
  const figures: Array<[string, Html | string]> = [
    [
      "Backlog",
      `${num(b.total)} request(s): waiting ${num(b.waiting)}, prioritized ${num(b.prioritized)}, delayed ` +
        `${num(b.delayed)}, active ${num(b.active)}${s.queuePaused ? " (QUEUE PAUSED: no worker takes jobs)" : ""}`,
    ],
    [
      "Oldest waiting",
      s.oldestWaiting
        ? html`<a href="/requests/${encodeURIComponent(s.oldestWaiting.id)}">${s.oldestWaiting.id}</a>, enqueued ${duration(s.oldestWaiting.ageMs)} ago`
        : "none waiting",
    ],
    [
      "Rate",
      r.limits.length === 0
        ? "no limit known yet"
        : `${num(r.admittedPerSecond)} calls/s admitted (last minute), limit ${num(r.limit)} calls/s, adaptive ` +
          `ceiling ${num(r.ceiling)} calls/s`,
    ],
    ["Throttles", `${num(throttles)}${lastThrottle ? `, last at ${lastThrottle}` : ""}`],
    [
      "Time to drain",
      b.total === 0
        ? "nothing to drain"
        : s.drain.seconds !== null
          ? duration(s.drain.seconds * 1000)
          : `unknown: no call admitted in the last minute${
              s.drain.atLimitSeconds !== null ? `; at the limit: ${duration(s.drain.atLimitSeconds * 1000)}` : ""
            }`,
    ],
    [
      "Workers alive",
      `${num(s.workers.alive)}${s.workers.alive > 0 ? ` (${num(s.workers.alive - s.workers.paused)} taking jobs, ${num(s.workers.paused)} paused)` : ""}`,
    ],
    [
      "Fault pause",
      s.faultPause.length === 0
        ? "none"
        : s.faultPause
            .map((f) => `${f.host}:${f.pid} since ${f.since}: ${f.error.name} (${f.error.message})`)
            .join("; "),
    ],
    [
      "Finished",
      `${num(s.finished.completed)} completed, ${num(s.finished.failed)} failed` +
        (s.finished.withoutOutcome.count > 0 ? `, ${num(s.finished.withoutOutcome.count)} without outcome` : ""),
    ],
    [
      "Outcomes",
      `${num(s.outcomes.waiting)} waiting for a consumer, ${num(s.outcomes.active)} active, ${num(s.outcomes.parked)} parked`,
    ],
  ];
  return layout(
    ctx,
    "Overview",
    html`<p class="muted">Read at <time datetime="${s.at}">${s.at}</time>: the same figures as <code>pc-invitations status</code>.</p>
<dl class="figures">${figures.map(([k, v]) => html`<dt>${k}</dt><dd>${v}</dd>`)}</dl>
${
  r.limits.length > 0
    ? html`<h2>Limits</h2><table><caption class="muted">Each shared limit</caption><thead><tr><th scope="col">Limit</th><th scope="col">Admitted calls/s</th><th scope="col">Rate</th><th scope="col">Ceiling</th><th scope="col">Throttles</th></tr></thead><tbody>${r.limits.map(
        (l) =>
          html`<tr><td class="mono">${l.limitKey}</td><td>${num(l.admittedPerSecond)}</td><td>${num(l.rate)}</td><td>${num(l.ceiling)}</td><td>${num(l.throttles)}</td></tr>`,
      )}</tbody></table>`
    : ""
}`,
  );
}

export interface RequestSearch {
  identifier?: string;
  partner?: string;
  state?: string;
  error?: string;
  since?: string;
}

export function requestsPage(
  ctx: PageContext,
  search: RequestSearch,
  items: readonly AcceptanceStatus[] | undefined,
  issues: FieldIssue[] | undefined,
  states: readonly string[],
  scanned: { count: number; more: boolean },
): string {
  const field = (name: keyof RequestSearch, label: string, hint: string) =>
    html`<div class="field"><label for="q-${name}">${label}</label>
<input id="q-${name}" name="${name}" value="${search[name] ?? ""}" placeholder="${hint}"${describedBy(`q-${name}`, issues, name)}>
${fieldError(`q-${name}`, issues, name)}</div>`;
  return layout(
    ctx,
    "Requests",
    html`<form method="get" action="/requests" role="search" aria-label="Search requests">
${formErrors(issues, ["identifier", "partner", "state", "error", "since"])}
${field("identifier", "Identifier", "pacinv-…")}
${field("partner", "Partner", "participant, account or metadata")}
<div class="field"><label for="q-state">State</label>
<select id="q-state" name="state"${describedBy("q-state", issues, "state")}><option value="">any</option>${states.map(
      (st) => html`<option value="${st}"${search.state === st ? new Html(" selected") : ""}>${st}</option>`,
    )}</select>${fieldError("q-state", issues, "state")}</div>
${field("error", "Error", "e.g. AccessDeniedException")}
${field("since", "Since", "e.g. 1h, 30m, 2d")}
<div class="field"><span aria-hidden="true">&nbsp;</span><button type="submit" class="primary">Search</button></div>
</form>
${
  items === undefined
    ? ""
    : html`<p class="muted" role="status">${items.length} request(s) found among the ${scanned.count} looked at${scanned.more ? " (more exist: narrow the search)" : ""}.</p>
<table><caption class="muted">Requests</caption><thead><tr><th scope="col">Request</th><th scope="col">State</th><th scope="col">Attempts</th><th scope="col">Outcome</th><th scope="col">Error</th><th scope="col">Finished</th><th scope="col">Actions</th></tr></thead>
<tbody>${items.map((it) => requestRow(ctx, it))}</tbody></table>`
}`,
  );
}

const CANCELABLE = new Set(["waiting", "delayed", "prioritized"]);

function requestRow(ctx: PageContext, it: AcceptanceStatus): Html {
  const o = it.outcome;
  const error = o && o.type === "failed" ? (o as { error?: { name?: string } }).error?.name : undefined;
  return html`<tr><td class="mono"><a href="/requests/${encodeURIComponent(it.id)}">${it.id}</a></td><td>${it.state}</td><td>${it.attempts}</td><td>${o?.type ?? ""}</td><td>${error ?? ""}</td><td>${o?.completedAt ?? ""}</td>
<td>${CANCELABLE.has(it.state) ? cancelForm(ctx, it.id) : ""}</td></tr>`;
}

function cancelForm(ctx: PageContext, id: string): Html {
  return html`<form method="post" action="/requests/${encodeURIComponent(id)}/cancel" class="inline">${csrfField(ctx)}
<button type="submit" aria-label="Cancel ${id}">Cancel</button></form>`;
}

export interface TimelineEntry {
  at: string | null;
  what: string;
}

export function requestPage(ctx: PageContext, status: AcceptanceStatus, timeline: readonly TimelineEntry[]): string {
  return layout(
    ctx,
    `Request ${status.id}`,
    html`<dl class="figures"><dt>State</dt><dd>${status.state}</dd><dt>Attempts</dt><dd>${status.attempts}</dd>
<dt>Outcome</dt><dd>${status.outcome?.type ?? "none yet"}</dd></dl>
${CANCELABLE.has(status.state) ? cancelForm(ctx, status.id) : ""}
<h2>Timeline</h2>
<ol class="timeline">${timeline.map((t) => html`<li>${t.at ? html`<time datetime="${t.at}">${t.at}</time>: ` : ""}${t.what}</li>`)}</ol>
${status.outcome ? html`<h2>Outcome event</h2><pre class="mono">${JSON.stringify(status.outcome, null, 2)}</pre>` : ""}`,
  );
}

export interface RedriveForm {
  errors?: string;
  since?: string;
}

export function failuresPage(
  ctx: PageContext,
  form: RedriveForm,
  preview: RedriveSummary | undefined,
  issues: FieldIssue[] | undefined,
  done?: RedriveSummary,
): string {
  const shown = done ?? preview;
  return layout(
    ctx,
    "Failures",
    html`<p>Requests whose outcome was <strong>failed</strong>. A redrive runs them again as new requests (each once); preview it first.</p>
<form method="post" action="/failures/preview">${csrfField(ctx)}
${formErrors(issues, ["errors", "since"])}
<div class="field"><label for="f-errors">Error names</label>
<input id="f-errors" name="errors" value="${form.errors ?? ""}" placeholder="any; comma-separated"${describedBy("f-errors", issues, "errors")}>
${fieldError("f-errors", issues, "errors")}</div>
<div class="field"><label for="f-since">Since</label>
<input id="f-since" name="since" value="${form.since ?? ""}" placeholder="any time; e.g. 1d"${describedBy("f-since", issues, "since")}>
${fieldError("f-since", issues, "since")}</div>
<div class="field"><span aria-hidden="true">&nbsp;</span><button type="submit">Preview the redrive</button></div>
</form>
${
  shown
    ? html`<h2>${done ? "Redriven" : "Preview"}</h2>
<p role="status">${shown.found} failure(s) found; ${done ? "redriven" : "would be redriven"}: ${shown.redriven}, duplicates ${shown.duplicates}, conflicts ${shown.conflicts}, skipped ${shown.skipped}.</p>
<table><caption class="muted">Failed requests</caption><thead><tr><th scope="col">Request</th><th scope="col">Invitation</th><th scope="col">Error</th><th scope="col">Failed at</th><th scope="col">Result</th></tr></thead>
<tbody>${shown.requests.map(
        (q) =>
          html`<tr><td class="mono"><a href="/requests/${encodeURIComponent(q.requestId)}">${q.requestId}</a></td><td class="mono">${q.catalog ?? ""}.${q.identifier ?? ""}</td><td>${q.error}</td><td>${q.failedAt}</td><td>${q.result}${q.jobId ? html` → <a href="/requests/${encodeURIComponent(q.jobId)}">${q.jobId}</a>` : ""}${q.detail ? `: ${q.detail}` : ""}</td></tr>`,
      )}</tbody></table>
${
  !done && preview && preview.redriven > 0
    ? html`<form method="post" action="/failures/redrive">${csrfField(ctx)}
<input type="hidden" name="errors" value="${form.errors ?? ""}"><input type="hidden" name="since" value="${form.since ?? ""}">
<button type="submit" class="primary">Redrive ${preview.redriven} request(s)</button></form>`
    : ""
}`
    : ""
}`,
  );
}

export interface ScheduleView {
  id: string;
  everyMs: number | null;
  pattern: string | null;
  next: string | null;
  catalogs: string;
}

export function schedulesPage(ctx: PageContext, schedules: readonly ScheduleView[]): string {
  return layout(
    ctx,
    "Discovery schedules",
    html`<p>Set by <code>pc-invitations discover --every</code>; a removed schedule stops for the whole fleet (a running <code>discover --every</code> sets it again when it starts).</p>
${
  schedules.length === 0
    ? html`<p role="status">No discovery schedule.</p>`
    : html`<table><caption class="muted">Schedules</caption><thead><tr><th scope="col">Schedule</th><th scope="col">Every</th><th scope="col">Catalogs</th><th scope="col">Next run</th><th scope="col">Actions</th></tr></thead>
<tbody>${schedules.map(
        (s) =>
          html`<tr><td class="mono">${s.id}</td><td>${s.everyMs !== null ? duration(s.everyMs) : (s.pattern ?? "")}</td><td>${s.catalogs}</td><td>${s.next ?? ""}</td>
<td><form method="post" action="/schedules/${encodeURIComponent(s.id)}/remove" class="inline">${csrfField(ctx)}<button type="submit" class="danger" aria-label="Remove schedule ${s.id}">Remove</button></form></td></tr>`,
      )}</tbody></table>`
}`,
  );
}

export const LIMIT_FIELDS: ReadonlyArray<[field: string, label: string]> = [
  ["rate", "Rate (calls/s, the ceiling)"],
  ["burst", "Burst"],
  ["minRate", "Minimum rate (calls/s)"],
  ["retryRatio", "Retry ratio"],
  ["retryMinPerMinute", "Retries per minute at least"],
];

export function limitsPage(
  ctx: PageContext,
  limitKey: string,
  state: RateLimitState,
  form: Record<string, string>,
  issues: FieldIssue[] | undefined,
): string {
  const st = state as unknown as Record<string, unknown>;
  return layout(
    ctx,
    "Limits",
    html`<p>The shared adaptive limit <code>${limitKey}</code>: every worker's calls count against it. A change takes effect at once for the fleet.</p>
<table><caption class="muted">Current state</caption><tbody>${Object.entries(st)
      .filter(([, v]) => typeof v !== "object" || v === null)
      .map(
        ([k, v]) => html`<tr><th scope="row">${k}</th><td>${typeof v === "number" ? num(v) : String(v)}</td></tr>`,
      )}</tbody></table>
<h2>Change</h2>
<form method="post" action="/limits">${csrfField(ctx)}
<input type="hidden" name="key" value="${limitKey}">
${formErrors(
  issues,
  LIMIT_FIELDS.map(([f]) => f),
)}
${LIMIT_FIELDS.map(
  ([f, label]) => html`<div class="field"><label for="l-${f}">${label}</label>
<input id="l-${f}" name="${f}" inputmode="decimal" value="${form[f] ?? ""}" placeholder="${String(st[f === "rate" ? "ceiling" : f] ?? "")}"${describedBy(`l-${f}`, issues, f)}>
${fieldError(`l-${f}`, issues, f)}</div>`,
)}
<div class="field"><span aria-hidden="true">&nbsp;</span><button type="submit" class="primary">Change the limit</button></div>
</form>`,
  );
}

export { esc };

export interface HeldRow {
  catalog: string;
  identifier: string;
  otherParticipantIdentifier: string | null;
  connectionType: string | null;
  inviterEmail: string | null;
  expiresAt: string | null;
  rule: number | null;
  firstSeenAt: string;
}

export interface DecisionOutcome {
  id: string;
  action: string;
  ok: boolean;
  /** The request made (ok), or why not. */
  detail: string;
  requestId?: string;
}

/**
 * The held invitations, soonest expiry first: each a row with its identifier (the row's header),
 * a countdown to its expiry, and its own Accept and Reject buttons (a reason beside them); a
 * checkbox per row for the bulk form below the table.
 */
export function heldPage(
  ctx: PageContext,
  rows: readonly HeldRow[] | undefined,
  more: boolean,
  decided: readonly DecisionOutcome[],
  issues: FieldIssue[] | undefined,
): string {
  const canDecide =
    ctx.principal.kind === "token" ? ctx.principal.scopes.includes("decide") : ctx.principal.role === "operator";
  const now = Date.now();
  return layout(
    ctx,
    "Held invitations",
    html`${
      decided.length > 0
        ? html`<h2>Decisions</h2><table><caption class="muted">What was decided just now</caption><thead><tr><th scope="col">Invitation</th><th scope="col">Decision</th><th scope="col">Result</th></tr></thead>
<tbody>${decided.map(
            (d) =>
              html`<tr><td class="mono">${d.id}</td><td>${d.action}</td><td class="${d.ok ? "" : "error"}">${d.detail}${d.requestId ? html` <a href="/requests/${encodeURIComponent(d.requestId)}">request ${d.requestId}</a>` : ""}</td></tr>`,
          )}</tbody></table>`
        : ""
    }
${formErrors(issues, ["reason", "action", "id"])}
${
  rows === undefined
    ? html`<p role="status">This server keeps no held list (it was built without one).</p>`
    : rows.length === 0
      ? html`<p role="status">No held invitation waits for a decision.</p>`
      : html`<p>Invitations a discovery policy held for a person, the soonest to expire first.${more ? " Only the first page is shown." : ""}</p>
<table id="held"><caption class="muted">Held invitations</caption>
<thead><tr>${canDecide ? html`<th scope="col"><input type="checkbox" id="select-all" data-select-all="id" aria-label="Select all"></th>` : ""}<th scope="col">Invitation</th><th scope="col">Other participant</th><th scope="col">Type</th><th scope="col">Held by</th><th scope="col">Expires</th>${canDecide ? html`<th scope="col">Decision</th>` : ""}</tr></thead>
<tbody>${rows.map((r, i) => {
          const id = `${r.catalog}.${r.identifier}`;
          const left = r.expiresAt ? Date.parse(r.expiresAt) - now : Number.NaN;
          return html`<tr data-invitation="${id}">${
            canDecide
              ? html`<td><input type="checkbox" name="id" value="${id}" form="bulk" aria-label="Select ${id}"></td>`
              : ""
          }<th scope="row" class="mono">${id}</th><td>${r.otherParticipantIdentifier ?? ""}${r.inviterEmail ? html`<br><span class="muted">${r.inviterEmail}</span>` : ""}</td><td>${r.connectionType ?? ""}</td><td>${r.rule === null ? "default" : `rule ${r.rule}`}</td>
<td>${r.expiresAt ? html`<time data-countdown datetime="${r.expiresAt}" title="${r.expiresAt}">${Number.isNaN(left) ? r.expiresAt : left <= 0 ? "expired" : `in ${duration(left)}`}</time>` : "no expiry known"}</td>
${
  canDecide
    ? html`<td><form method="post" action="/held/decide" class="inline" id="row-${i}">${csrfField(ctx)}<input type="hidden" name="id" value="${id}">
<button type="submit" name="action" value="accept" class="primary">Accept</button>
<label for="reason-${i}" class="visually-hidden">Reason for rejecting ${id}</label><input id="reason-${i}" name="reason" size="14" placeholder="reason (reject)">
<button type="submit" name="action" value="reject" class="danger">Reject</button></form></td>`
    : ""
}</tr>`;
        })}</tbody></table>
${
  canDecide
    ? html`<form method="post" action="/held/decide" id="bulk"><fieldset><legend>Selected invitations</legend>${csrfField(ctx)}
<div class="field"><label for="bulk-reason">Reason (reject)</label><input id="bulk-reason" name="reason"${describedBy("bulk-reason", issues, "reason")}>${fieldError("bulk-reason", issues, "reason")}</div>
<div class="field"><span aria-hidden="true">&nbsp;</span><span><button type="submit" name="action" value="accept">Accept selected</button>
<button type="submit" name="action" value="reject">Reject selected</button></span></div></fieldset></form>`
    : html`<p class="muted">Deciding needs the operator role.</p>`
}`
}`,
  );
}
