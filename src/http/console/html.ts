import type { FieldIssue } from "../../schemas/issues.js";
import type { Principal } from "../principal.js";

/**
 * The console's HTML, written by hand: every value goes through `esc` (text and attributes), no
 * inline script or style anywhere (the CSP, `default-src 'self'`, would refuse them), one
 * stylesheet and one script of our own (assets.ts). Pages are plain forms that work without the
 * script; it only adds countdowns, "select all" and a confirmation.
 */

/** Text or an attribute value, escaped. */
export function esc(value: unknown): string {
  return String(value ?? "")
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&#39;");
}

/** A fragment of HTML already escaped: what the helpers below return and take. */
export class Html {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

/** A template tag: interpolated values are escaped, unless they are Html (or arrays of it). */
export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0] ?? "";
  values.forEach((v, i) => {
    out += render(v) + (strings[i + 1] ?? "");
  });
  return new Html(out);
}

function render(v: unknown): string {
  if (v instanceof Html) return v.value;
  if (Array.isArray(v)) return v.map(render).join("");
  if (v === undefined || v === null || v === false) return "";
  return esc(v);
}

export const NAV: ReadonlyArray<[path: string, label: string]> = [
  ["/", "Overview"],
  ["/held", "Held invitations"],
  ["/requests", "Requests"],
  ["/failures", "Failures"],
  ["/schedules", "Schedules"],
  ["/limits", "Limits"],
  ["/admin/queues", "Queues (bull-board)"],
];

export interface PageContext {
  principal: Principal;
  /** The session's CSRF token, put in every form; undefined for a token (no cookie, no CSRF). */
  csrf: string | undefined;
  /** The current path, to mark the navigation. */
  path: string;
  /** A notice to show (an action's result), from the redirect's query. */
  notice?: string | undefined;
}

export function layout(ctx: PageContext, title: string, body: Html): string {
  const who = ctx.principal;
  const role = who.kind === "person" ? who.role : `token: ${who.scopes.join(", ")}`;
  return html`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · pc-invitations</title>
<link rel="stylesheet" href="/console/assets/console.css">
<script defer src="/console/assets/console.js"></script>
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header>
<span class="brand">pc-invitations</span>
<nav aria-label="Console">
<ul>
${NAV.map(
  ([path, label]) =>
    html`<li><a href="${path}"${path === ctx.path ? new Html(' aria-current="page"') : ""}>${label}</a></li>`,
)}
</ul>
</nav>
<div class="who">
<span>${who.name} (${role})</span>
${
  ctx.csrf
    ? html`<form method="post" action="/logout" class="inline">${csrfField(ctx)}<button type="submit">Log out</button></form>`
    : ""
}
</div>
</header>
<main id="main">
<h1>${title}</h1>
${ctx.notice ? html`<p class="notice" role="status">${ctx.notice}</p>` : ""}
${body}
</main>
</body>
</html>`.value;
}

export function csrfField(ctx: Pick<PageContext, "csrf">): Html {
  return ctx.csrf ? html`<input type="hidden" name="_csrf" value="${ctx.csrf}">` : html``;
}

/** A form field's error, next to it, named by the field's `aria-describedby`. */
export function fieldError(id: string, issues: readonly FieldIssue[] | undefined, field: string): Html {
  const issue = issues?.find((i) => i.field === field || i.field.startsWith(`${field}.`));
  return issue ? html`<span class="error" id="${id}-error">${issue.rule}</span>` : html``;
}

export function describedBy(id: string, issues: readonly FieldIssue[] | undefined, field: string): Html {
  const has = issues?.some((i) => i.field === field || i.field.startsWith(`${field}.`));
  return has ? html` aria-invalid="true" aria-describedby="${id}-error"` : html``;
}

/** Errors that belong to no field of the form, above it. */
export function formErrors(issues: readonly FieldIssue[] | undefined, fields: readonly string[]): Html {
  const other = (issues ?? []).filter((i) => !fields.some((f) => i.field === f || i.field.startsWith(`${f}.`)));
  return other.length === 0
    ? html``
    : html`<div class="error" role="alert"><ul>${other.map((i) => html`<li>${i.field}: ${i.rule}</li>`)}</ul></div>`;
}

/** 90061 ms → "1 min 30 s"; for ages, countdowns and times to drain. */
export function duration(ms: number): string {
  const s = Math.round(Math.abs(ms) / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min${s % 60 ? ` ${s % 60} s` : ""}`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h${m % 60 ? ` ${m % 60} min` : ""}`;
  return `${Math.floor(h / 24)} d${h % 24 ? ` ${h % 24} h` : ""}`;
}

export function num(n: number): string {
  return n.toLocaleString("en-US", { maximumFractionDigits: 2 });
}
