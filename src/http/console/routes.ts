import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { z } from "zod";
import { loginSchema, type Scope } from "../../schemas/access.js";
import { durationSchema } from "../../schemas/duration.js";
import { type FieldIssue, toFieldIssues } from "../../schemas/issues.js";
import { isRequestId } from "../../schemas/request-id.js";
import { LIST_STATES, parseRequestQuery, type RequestQuery } from "../../store/request-query.js";
import type { SharedRateLimiter, LimitSettings } from "../../ratelimit/shared-rate-limiter.js";
import { limitSettingsIssues } from "../../ratelimit/limit-settings.js";
import { limitKeyIssue } from "../../schemas/limit-key.js";
import type { AccessStore } from "../../store/access-store.js";
import type { HeldPage, HeldQuery } from "../../store/held-store.js";
import { decisionBodySchema } from "../../schemas/decision.js";
import { readAcceptanceStatus, toAcceptanceStatus, type AcceptanceStatus } from "../acceptance-status.js";
import type { HttpContext } from "../http-context.js";
import { cancelBodySchema, redriveBodySchema } from "../http-schemas.js";
import { type BearerAuthenticator, may, mayOpenConsole, type Principal } from "../principal.js";
import { CONSOLE_CSS, CONSOLE_JS } from "./assets.js";
import type { PageContext } from "./html.js";
import {
  type DecisionOutcome,
  failuresPage,
  heldPage,
  LIMIT_FIELDS,
  limitsPage,
  loginPage,
  messagePage,
  overviewPage,
  type RedriveForm,
  requestPage,
  type RequestSearch,
  requestsPage,
  schedulesPage,
  type TimelineEntry,
} from "./pages.js";
import type { ScheduleControl } from "./schedules.js";
import { createSessions, csrfMatches, sessionCookie } from "./session.js";

/**
 * What the console's pages allow: this origin only (scripts, styles, images, fetches, forms), no
 * inline script or style, no framing, no <base>.
 */
export const CONSOLE_CSP = "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'";

export interface ConsoleDeps {
  ctx: HttpContext;
  access: AccessStore;
  authenticateBearer: BearerAuthenticator;
  limiter: SharedRateLimiter;
  schedules: ScheduleControl;
  /** CONSOLE_SESSION_TTL_MS. */
  sessionTtlMs: number;
  /** Held invitations (app/held.ts): without it the held page says the server keeps none. */
  held?: ConsoleHeldPort | undefined;
}

/** The held list and decide() (app/held.ts), as the console uses them: the HTTP API's held port. */
export interface ConsoleHeldPort {
  list(query: HeldQuery): Promise<HeldPage>;
  /** `{ catalog, identifier, action, reason?, decidedBy }` → DecisionResult. */
  decide(input: unknown): Promise<object>;
}

/** Who is using the console: a person (with the session's CSRF token) or an admin token. */
interface Visitor {
  principal: Principal;
  csrf: string | undefined;
  digest: string | undefined;
}

type Form = Record<string, string | string[]>;

/** Held invitations shown (and decided at once) at most. */
const HELD_PAGE = 200;
/** What decide() refuses for a reason a person should read (anything else is a server error). */
const DECISION_REFUSALS = new Set([
  "RequestValidationError",
  "InvitationNotPendingError",
  "InvitationNotFoundError",
  "DecisionConflictError",
  "PartnerCentralCallError",
]);

/** Most requests a search looks at (pages of the store's listing). */
const SEARCH_SCAN_MAX = 1000;

/**
 * The operator console at `/`: a login form, then server-rendered pages over the same read model
 * and the same operations as the CLI and the HTTP API (readStatus, the listing, cancel, redrive,
 * limits, schedules). Every change is a POST form carrying the session's CSRF token, refused (403)
 * without it, and refused (403) to a viewer.
 */
export async function consoleRoutes(
  app: FastifyInstance,
  deps: ConsoleDeps,
): Promise<{
  authenticate(request: FastifyRequest): Promise<Principal | undefined>;
}> {
  const { ctx } = deps;
  const sessions = createSessions({ access: deps.access, ttlMs: deps.sessionTtlMs, bounded: ctx.bounded });

  const visitor = async (request: FastifyRequest): Promise<Visitor | "forbidden" | undefined> => {
    const session = await sessions.resolve(request);
    if (session) return { principal: session.principal, csrf: session.csrf, digest: session.digest };
    if (request.headers.authorization === undefined) return undefined;
    const principal = await deps.authenticateBearer(request.headers.authorization);
    if (!principal) return undefined;
    return mayOpenConsole(principal) ? { principal, csrf: undefined, digest: undefined } : "forbidden";
  };

  await app.register(async (scope) => {
    // The console's error answers are pages of its own (HTML), not problems: the server's onSend
    // hook leaves routes marked so alone.
    scope.addHook("onRoute", (route) => {
      route.config = { ...(route.config as object | undefined), ownErrorBody: true } as typeof route.config;
    });
    scope.addContentTypeParser(
      "application/x-www-form-urlencoded",
      { parseAs: "string", bodyLimit: 256 * 1024 },
      (_request, body, done) => {
        const out: Form = Object.create(null) as Form;
        for (const [k, v] of new URLSearchParams(body as string)) {
          const prev = out[k];
          out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
        }
        done(null, out);
      },
    );
    scope.addHook("onSend", async (_request, reply, payload) => {
      reply
        .header("content-security-policy", CONSOLE_CSP)
        .header("x-content-type-options", "nosniff")
        .header("referrer-policy", "same-origin")
        .header("x-frame-options", "DENY");
      if (!reply.hasHeader("cache-control")) reply.header("cache-control", "no-store");
      return payload;
    });
    scope.setErrorHandler((err, request, reply) => {
      request.log.error({ err }, "console request failed");
      const status = (err as { statusCode?: number }).statusCode;
      const code = typeof status === "number" && status >= 400 && status < 500 ? status : 500;
      return reply
        .code(code)
        .type("text/html; charset=utf-8")
        .send(
          messagePage(
            undefined,
            code === 500 ? "Something went wrong" : "Bad request",
            code === 500
              ? `The server could not answer (${(err as { name?: string }).name ?? "error"}); it has been logged with request id ${request.id}.`
              : (err as Error).message,
          ),
        );
    });

    scope.get("/console/assets/console.css", async (_r, reply) =>
      reply.type("text/css; charset=utf-8").header("cache-control", "public, max-age=300").send(CONSOLE_CSS),
    );
    scope.get("/console/assets/console.js", async (_r, reply) =>
      reply.type("text/javascript; charset=utf-8").header("cache-control", "public, max-age=300").send(CONSOLE_JS),
    );

    // ---- login, logout ----
    scope.get<{ Querystring: { next?: string } }>("/login", async (request, reply) =>
      htmlReply(reply, 200, loginPage({ next: safeNext(request.query.next) })),
    );
    scope.post("/login", async (request, reply) => {
      if (!sameOrigin(request)) return htmlReply(reply, 403, messagePage(undefined, "Not allowed", CROSS_ORIGIN));
      const form = formOf(request);
      const next = safeNext(one(form, "next"));
      const parsed = loginSchema.safeParse({
        username: one(form, "username") ?? "",
        password: one(form, "password") ?? "",
      });
      if (!parsed.success)
        return htmlReply(
          reply,
          400,
          loginPage({ issues: toFieldIssues(parsed.error), username: one(form, "username") ?? "", next }),
        );
      const session = await sessions.login(parsed.data.username, parsed.data.password);
      if (!session) {
        request.log.info({ user: parsed.data.username }, "console login refused");
        return htmlReply(
          reply,
          401,
          loginPage({ error: "Wrong username or password.", username: parsed.data.username, next }),
        );
      }
      request.log.info({ user: parsed.data.username }, "console login");
      return reply
        .header("set-cookie", sessionCookie(request, session.id, deps.sessionTtlMs / 1000))
        .redirect(next, 303);
    });
    scope.post("/logout", async (request, reply) => {
      const v = await visitor(request);
      if (v && v !== "forbidden" && v.digest) {
        if (!csrfMatches(v.csrf ?? "", one(formOf(request), "_csrf")))
          return htmlReply(reply, 403, messagePage(undefined, "Not allowed", NO_CSRF));
        await sessions.logout(v.digest);
      }
      return reply.header("set-cookie", sessionCookie(request, "", 0)).redirect("/login", 303);
    });

    /** A page: its visitor, or a redirect to the login form (or 403 for a token without `admin`). */
    const page = async (request: FastifyRequest, reply: FastifyReply): Promise<PageContext | undefined> => {
      const v = await visitor(request);
      if (v === "forbidden") {
        await htmlReply(reply, 403, messagePage(undefined, "Not allowed", NOT_ADMIN));
        return undefined;
      }
      if (!v) {
        await reply.redirect(`/login?next=${encodeURIComponent(request.url)}`, 303);
        return undefined;
      }
      const notice = (request.query as { notice?: unknown } | undefined)?.notice;
      return {
        principal: v.principal,
        csrf: v.csrf,
        path: pathOf(request.url),
        notice: typeof notice === "string" ? notice.slice(0, 300) : undefined,
      };
    };
    /**
     * A change: a visitor (else 401), the session's CSRF token (else 403: a person's browser sends
     * the cookie by itself, the token proves the form is ours), then the scope (a viewer: 403).
     */
    const change = async (
      request: FastifyRequest,
      reply: FastifyReply,
      scope: Scope,
    ): Promise<PageContext | undefined> => {
      const v = await visitor(request);
      if (v === "forbidden") {
        await htmlReply(reply, 403, messagePage(undefined, "Not allowed", NOT_ADMIN));
        return undefined;
      }
      if (!v) {
        await htmlReply(reply, 401, messagePage(undefined, "Log in first", "This needs a login."));
        return undefined;
      }
      const ctxPage = { principal: v.principal, csrf: v.csrf, path: pathOf(request.url) };
      if (v.digest && (!sameOrigin(request) || !csrfMatches(v.csrf ?? "", one(formOf(request), "_csrf")))) {
        request.log.warn({ user: v.principal.name, url: request.url }, "console change refused: no CSRF token");
        await htmlReply(reply, 403, messagePage(ctxPage, "Not allowed", NO_CSRF));
        return undefined;
      }
      if (!may(v.principal, scope)) {
        await htmlReply(
          reply,
          403,
          messagePage(
            ctxPage,
            "Not allowed",
            `${v.principal.name} may read the console but not change anything: this needs the operator role.`,
          ),
        );
        return undefined;
      }
      return ctxPage;
    };

    // ---- overview ----
    scope.get("/", async (request, reply) => {
      const p = await page(request, reply);
      if (!p) return reply;
      return htmlReply(reply, 200, overviewPage(p, await ctx.bounded(ctx.status())));
    });

    // ---- held invitations ----
    const heldRows = async () => {
      if (!deps.held) return { rows: undefined, more: false };
      const page = await ctx.bounded(deps.held.list({ limit: HELD_PAGE }));
      return { rows: page.items, more: page.next !== null };
    };
    scope.get("/held", async (request, reply) => {
      const p = await page(request, reply);
      if (!p) return reply;
      const { rows, more } = await heldRows();
      return htmlReply(reply, 200, heldPage(p, rows, more, [], undefined));
    });
    /**
     * One decision or several (the bulk form): each through decide() with the person's (or the
     * token's) name as `decidedBy`; the body's rules are the HTTP API's (decisionBodySchema).
     */
    scope.post("/held/decide", async (request, reply) => {
      const p = await change(request, reply, "decide");
      if (!p) return reply;
      if (!deps.held) return htmlReply(reply, 501, messagePage(p, "Not configured", "This server keeps no held list."));
      const f = formOf(request);
      const ids = [...new Set(many(f, "id"))].slice(0, HELD_PAGE);
      const action = one(f, "action");
      const reason = (one(f, "reason") ?? "").trim();
      const body = decisionBodySchema.safeParse({
        action,
        ...(reason !== "" && action === "reject" ? { reason } : {}),
      });
      const issues: FieldIssue[] = body.success ? [] : toFieldIssues(body.error);
      if (ids.length === 0) issues.push({ field: "id", rule: "select at least one invitation" });
      if (!body.success || issues.length > 0) {
        const { rows, more } = await heldRows();
        return htmlReply(reply, 400, heldPage(p, rows, more, [], issues));
      }
      const decided: DecisionOutcome[] = [];
      for (const id of ids) {
        const dot = id.indexOf(".");
        const catalog = dot > 0 ? id.slice(0, dot) : "";
        const identifier = dot > 0 ? id.slice(dot + 1) : id;
        try {
          // Not bounded by HTTP_REDIS_TIMEOUT_MS as a whole (as POST /v1/held/…/decision): an
          // invitation never held is read from AWS first, through the shared limit.
          const result = (await deps.held.decide({
            catalog,
            identifier,
            ...body.data,
            decidedBy: p.principal.name,
          })) as { request?: { jobId?: string; duplicate?: boolean }; decidedBy?: string | null };
          const duplicate = result.request?.duplicate === true;
          decided.push({
            id,
            action: body.data.action,
            ok: true,
            detail: duplicate
              ? `already decided so by ${result.decidedBy ?? "someone else"}`
              : `${body.data.action}: enqueued`,
            ...(result.request?.jobId ? { requestId: result.request.jobId } : {}),
          });
          request.log.info({ user: p.principal.name, invitation: id, action: body.data.action }, "console: decision");
        } catch (err) {
          const e = err as { name?: string; message?: string };
          if (!e.name || !DECISION_REFUSALS.has(e.name)) throw err;
          decided.push({ id, action: body.data.action, ok: false, detail: e.message ?? e.name });
        }
      }
      const { rows, more } = await heldRows();
      return htmlReply(
        reply,
        200,
        heldPage(
          { ...p, notice: `${decided.filter((d) => d.ok).length} of ${decided.length} decided.` },
          rows,
          more,
          decided,
          undefined,
        ),
      );
    });

    // ---- requests ----
    scope.get<{ Querystring: Record<string, string> }>("/requests", async (request, reply) => {
      const p = await page(request, reply);
      if (!p) return reply;
      const q = request.query;
      const search: RequestSearch = {};
      for (const k of ["identifier", "partner", "state", "error", "since"] as const) {
        const v = typeof q[k] === "string" ? q[k].trim() : "";
        if (v !== "") search[k] = v;
      }
      const checked = checkSearch(search);
      if ("issues" in checked)
        return htmlReply(
          reply,
          400,
          requestsPage(p, search, undefined, checked.issues, LIST_STATES, { count: 0, more: false }),
        );
      const found: AcceptanceStatus[] = [];
      let scanned = 0;
      let query: RequestQuery = checked.query;
      let more = false;
      for (;;) {
        const pageOf = await ctx.bounded(ctx.store.listRequests(query));
        scanned += pageOf.items.length;
        for (const item of pageOf.items) {
          const status = toAcceptanceStatus(item.id, item.job, item.outcome);
          if (matches(status, search, checked.sinceMs)) found.push(status);
        }
        if (!pageOf.next) break;
        if (scanned >= SEARCH_SCAN_MAX) {
          more = true;
          break;
        }
        query = { ...query, cursor: pageOf.next };
      }
      return htmlReply(reply, 200, requestsPage(p, search, found, undefined, LIST_STATES, { count: scanned, more }));
    });

    scope.get<{ Params: { id: string } }>("/requests/:id", async (request, reply) => {
      const p = await page(request, reply);
      if (!p) return reply;
      const { id } = request.params;
      const status = isRequestId(id)
        ? await ctx.bounded(readAcceptanceStatus(ctx.requests, ctx.outcomes, id))
        : undefined;
      if (!status) return htmlReply(reply, 404, messagePage(p, "Not found", `No request with id ${id}.`));
      const job = await ctx.bounded(ctx.requests.getJob(id));
      return htmlReply(reply, 200, requestPage(p, status, timelineOf(job ?? undefined, status)));
    });

    scope.post<{ Params: { id: string } }>("/requests/:id/cancel", async (request, reply) => {
      const p = await change(request, reply, "control");
      if (!p) return reply;
      const { id } = request.params;
      if (!ctx.requestControl)
        return htmlReply(reply, 501, messagePage(p, "Not configured", "This server cannot cancel."));
      const form = formOf(request);
      const reason = one(form, "reason");
      const body = cancelBodySchema.safeParse(reason ? { reason } : {});
      if (!body.success || !isRequestId(id))
        return htmlReply(
          reply,
          400,
          messagePage(
            p,
            "Cannot cancel",
            `Refused: ${
              body.success
                ? "not a request id"
                : toFieldIssues(body.error)
                    .map((i) => `${i.field}: ${i.rule}`)
                    .join("; ")
            }`,
          ),
        );
      try {
        await ctx.bounded(
          ctx.requestControl.cancel(id, {
            reason: body.data.reason ?? `canceled in the console by ${p.principal.name}`,
          }),
        );
      } catch (err) {
        const name = (err as { name?: string }).name;
        if (name === "RequestNotCancelableError" || name === "RequestNotFoundError")
          return htmlReply(reply, 409, messagePage(p, "Cannot cancel", (err as Error).message));
        throw err;
      }
      request.log.info({ user: p.principal.name, requestId: id }, "console: request canceled");
      return reply.redirect(
        `/requests/${encodeURIComponent(id)}?notice=${encodeURIComponent(`Canceled by ${p.principal.name}.`)}`,
        303,
      );
    });

    // ---- failures and redrive ----
    scope.get("/failures", async (request, reply) => {
      const p = await page(request, reply);
      if (!p) return reply;
      if (!ctx.requestControl) return htmlReply(reply, 200, failuresPage(p, {}, undefined, undefined));
      // The list of failures is the preview of a redrive of all of them (nothing written).
      const preview = await ctx.bounded(ctx.requestControl.redrive({ dryRun: true }));
      return htmlReply(reply, 200, failuresPage(p, {}, preview, undefined));
    });
    const redriveOf = async (request: FastifyRequest, reply: FastifyReply, dryRun: boolean) => {
      const p = await change(request, reply, "control");
      if (!p) return reply;
      if (!ctx.requestControl)
        return htmlReply(reply, 501, messagePage(p, "Not configured", "This server cannot redrive."));
      const f = formOf(request);
      const form: RedriveForm = { errors: one(f, "errors") ?? "", since: one(f, "since") ?? "" };
      const errors = (form.errors ?? "")
        .split(",")
        .map((e) => e.trim())
        .filter((e) => e !== "");
      const parsed = redriveBodySchema.safeParse({
        ...(errors.length > 0 ? { errors } : {}),
        ...(form.since ? { since: form.since } : {}),
      });
      if (!parsed.success) return htmlReply(reply, 400, failuresPage(p, form, undefined, toFieldIssues(parsed.error)));
      const options = {
        ...(parsed.data.errors ? { errorNames: parsed.data.errors } : {}),
        ...(parsed.data.since !== undefined ? { sinceMs: parsed.data.since } : {}),
      };
      const preview = await ctx.bounded(ctx.requestControl.redrive({ ...options, dryRun: true }));
      if (dryRun) return htmlReply(reply, 200, failuresPage(p, form, preview, undefined));
      const done = await ctx.bounded(ctx.requestControl.redrive({ ...options, dryRun: false }));
      request.log.info({ user: p.principal.name, redriven: done.redriven }, "console: redrive");
      return htmlReply(reply, 200, failuresPage(p, form, undefined, undefined, done));
    };
    scope.post("/failures/preview", (request, reply) => redriveOf(request, reply, true));
    scope.post("/failures/redrive", (request, reply) => redriveOf(request, reply, false));

    // ---- schedules ----
    scope.get("/schedules", async (request, reply) => {
      const p = await page(request, reply);
      if (!p) return reply;
      return htmlReply(reply, 200, schedulesPage(p, await ctx.bounded(deps.schedules.list())));
    });
    scope.post<{ Params: { id: string } }>("/schedules/:id/remove", async (request, reply) => {
      const p = await change(request, reply, "control");
      if (!p) return reply;
      const id = request.params.id.slice(0, 200);
      const removed = await ctx.bounded(deps.schedules.remove(id));
      request.log.info({ user: p.principal.name, schedule: id, removed }, "console: schedule removed");
      return reply.redirect(
        `/schedules?notice=${encodeURIComponent(removed ? `Schedule ${id} removed.` : `No schedule ${id}.`)}`,
        303,
      );
    });

    // ---- limits ----
    scope.get<{ Querystring: { key?: string } }>("/limits", async (request, reply) => {
      const p = await page(request, reply);
      if (!p) return reply;
      const key =
        request.query.key && !limitKeyIssue(request.query.key) ? request.query.key : ctx.config.RATE_LIMIT_KEY;
      return htmlReply(reply, 200, limitsPage(p, key, await ctx.bounded(deps.limiter.getState(key)), {}, undefined));
    });
    scope.post("/limits", async (request, reply) => {
      const p = await change(request, reply, "control");
      if (!p) return reply;
      const f = formOf(request);
      const rawKey = one(f, "key") ?? ctx.config.RATE_LIMIT_KEY;
      const keyIssue = limitKeyIssue(rawKey);
      const key = keyIssue ? ctx.config.RATE_LIMIT_KEY : rawKey;
      const form: Record<string, string> = {};
      const changes: Partial<LimitSettings> = {};
      const issues: FieldIssue[] = keyIssue ? [{ field: "key", rule: keyIssue }] : [];
      for (const [field] of LIMIT_FIELDS) {
        const raw = (one(f, field) ?? "").trim();
        if (raw === "") continue;
        form[field] = raw;
        if (!/^\d+(\.\d+)?$/.test(raw)) {
          issues.push({ field, rule: "must be a number in plain decimal digits" });
          continue;
        }
        (changes as Record<string, number>)[field] = Number(raw);
      }
      if (issues.length === 0 && Object.keys(changes).length === 0)
        issues.push({ field: "(form)", rule: "change at least one setting" });
      if (issues.length === 0) {
        const current = await ctx.bounded(deps.limiter.getState(key));
        for (const issue of limitSettingsIssues(changes, { rate: current.ceiling, minRate: current.minRate })) {
          const colon = issue.indexOf(":");
          issues.push({ field: issue.slice(0, colon), rule: issue.slice(colon + 2) });
        }
      }
      if (issues.length > 0)
        return htmlReply(reply, 400, limitsPage(p, key, await ctx.bounded(deps.limiter.getState(key)), form, issues));
      await ctx.bounded(deps.limiter.setLimits(key, changes));
      request.log.info({ user: p.principal.name, limitKey: key, changes }, "console: limits changed");
      return reply.redirect(`/limits?notice=${encodeURIComponent(`Limit ${key} changed.`)}`, 303);
    });
  });

  return {
    authenticate: async (request) => {
      const v = await visitor(request).catch(() => undefined);
      if (v === "forbidden") return deps.authenticateBearer(request.headers.authorization);
      return v?.principal;
    },
  };
}

const NO_CSRF =
  "This change did not carry the form's CSRF token (or came from another site): reload the page and try again.";
const NOT_ADMIN = "This token may not open the console: it needs the admin scope (or log in as a person).";
const CROSS_ORIGIN = "This form was sent from another site.";

function htmlReply(reply: FastifyReply, status: number, body: string): FastifyReply {
  return reply.code(status).type("text/html; charset=utf-8").send(body);
}

function formOf(request: FastifyRequest): Form {
  const body = request.body;
  return body !== null && typeof body === "object" && !Array.isArray(body) ? (body as Form) : {};
}

function one(form: Form, name: string): string | undefined {
  if (!Object.hasOwn(form, name)) return undefined;
  const v = form[name];
  return Array.isArray(v) ? v[0] : v;
}

export function many(form: Form, name: string): string[] {
  if (!Object.hasOwn(form, name)) return [];
  const v = form[name];
  return Array.isArray(v) ? v : v === undefined ? [] : [v];
}

function pathOf(url: string): string {
  return url.split("?")[0] ?? url;
}

/** Where a login goes next: a path of this console, never another site. */
function safeNext(next: unknown): string {
  return typeof next === "string" && /^\/(?![/\\])[^\s]*$/.test(next) && next.length < 500 ? next : "/";
}

/**
 * A change must come from our own pages: when the browser says where the form came from (Origin,
 * or Sec-Fetch-Site), it must be this origin. SameSite=Strict keeps the cookie off cross-site
 * requests already; this refuses them outright, the login form included.
 */
function sameOrigin(request: FastifyRequest): boolean {
  const site = request.headers["sec-fetch-site"];
  if (typeof site === "string" && site !== "same-origin" && site !== "none") return false;
  const origin = request.headers.origin;
  if (typeof origin !== "string" || origin === "null") return origin === undefined;
  try {
    return new URL(origin).host === request.headers.host;
  } catch {
    return false;
  }
}

const sinceSchema = z.object({ since: durationSchema.optional() });
const textFilter = z.string().max(200, { error: "must be at most 200 characters" }).optional();

/** The search's rules: the listing's (identifier, state), a duration for `since`, bounded texts. */
function checkSearch(
  search: RequestSearch,
): { query: RequestQuery; sinceMs: number | undefined } | { issues: FieldIssue[] } {
  const issues: FieldIssue[] = [];
  const listing = parseRequestQuery({
    limit: 200,
    ...(search.identifier ? { identifier: search.identifier } : {}),
    ...(search.state ? { state: search.state } : {}),
  });
  if ("issues" in listing) issues.push(...listing.issues);
  const since = sinceSchema.safeParse(search.since ? { since: search.since } : {});
  if (!since.success) issues.push(...toFieldIssues(since.error));
  for (const k of ["partner", "error"] as const) {
    const r = textFilter.safeParse(search[k]);
    if (!r.success) issues.push(...toFieldIssues(r.error).map((i) => ({ ...i, field: k })));
  }
  if (issues.length > 0 || "issues" in listing) return { issues };
  return { query: listing.query, sinceMs: since.success ? since.data.since : undefined };
}

function matches(s: AcceptanceStatus, search: RequestSearch, sinceMs: number | undefined): boolean {
  const o = s.outcome as (Record<string, unknown> & { error?: { name?: string } }) | null;
  if (search.error && !(o?.error?.name ?? "").toLowerCase().includes(search.error.toLowerCase())) return false;
  if (search.partner) {
    const { requestId: _r, eventId: _e, clientToken: _c, ...rest } = o ?? {};
    if (!JSON.stringify(rest).toLowerCase().includes(search.partner.toLowerCase())) return false;
  }
  if (sinceMs !== undefined) {
    const at = typeof o?.completedAt === "string" ? Date.parse(o.completedAt) : Number.NaN;
    const enq = typeof o?.enqueuedAt === "string" ? Date.parse(o.enqueuedAt) : Number.NaN;
    const t = Number.isNaN(at) ? enq : at;
    // Without an outcome a request is still open: it is recent enough.
    if (!Number.isNaN(t) && t < Date.now() - sinceMs) return false;
  }
  return true;
}

interface JobLike {
  timestamp: number;
  delay?: number;
  processedOn?: number;
  finishedOn?: number;
  attemptsMade: number;
  failedReason?: string;
  data: unknown;
}

/** What happened to a request, in order: from its job (enqueued, runs, throttles) and its outcome event. */
function timelineOf(job: JobLike | undefined, status: AcceptanceStatus): TimelineEntry[] {
  const out: TimelineEntry[] = [];
  const iso = (ms: number | undefined) => (ms ? new Date(ms).toISOString() : null);
  const o = status.outcome as (Record<string, unknown> & { error?: { name?: string; message?: string } }) | null;
  if (job) {
    out.push({ at: iso(job.timestamp), what: "enqueued" });
    if (job.delay && job.delay > 0)
      out.push({ at: iso(job.timestamp + job.delay), what: `due (delayed ${job.delay} ms)` });
    const data = job.data as { throttleRequeues?: unknown; redriveOf?: unknown };
    if (typeof data.redriveOf === "string") out.push({ at: null, what: `a redrive of ${data.redriveOf}` });
    if (job.processedOn)
      out.push({ at: iso(job.processedOn), what: `last run started (attempts made: ${job.attemptsMade})` });
    if (typeof data.throttleRequeues === "number" && data.throttleRequeues > 0)
      out.push({ at: null, what: `throttled ${data.throttleRequeues} time(s), each time back in the queue` });
    if (job.failedReason) out.push({ at: iso(job.finishedOn), what: `run failed: ${job.failedReason}` });
  } else if (o && typeof o.enqueuedAt === "string") {
    out.push({ at: o.enqueuedAt, what: "enqueued (its job is gone: retention)" });
  }
  if (o) {
    const detail =
      o.type === "failed"
        ? `: ${o.error?.name ?? ""} ${o.error?.message ?? ""}`
        : typeof o.reason === "string"
          ? `: ${o.reason}`
          : "";
    const by = typeof o.decidedBy === "string" ? ` (decided by ${o.decidedBy})` : "";
    out.push({
      at: typeof o.completedAt === "string" ? o.completedAt : null,
      what: `outcome ${String(o.type)}${detail}${by}`,
    });
  } else {
    out.push({ at: null, what: `no outcome yet (${status.state})` });
  }
  return out;
}
