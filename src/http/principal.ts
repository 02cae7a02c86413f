import type { FastifyRequest } from "fastify";
import type { Role, Scope } from "../schemas/access.js";
import type { AccessStore, StoredToken } from "../store/access-store.js";
import { secretDigest } from "../store/access-secrets.js";
import { createBearerAuth } from "./bearer-auth.js";

/**
 * Who is asking. Every authenticated request carries one: a person logged into the console (their
 * name and role), or a token (its name and scopes). Its `name` is what a decision or an action
 * records (`decidedBy`): a named token's name, a person's name, `HTTP_AUTH_TOKENS` /
 * `HTTP_ADMIN_TOKENS` for the tokens of the environment, `anonymous` under HTTP_AUTH_DISABLED.
 */
export type Principal =
  | { kind: "person"; name: string; role: Role }
  | { kind: "token"; name: string; scopes: readonly Scope[] };

/** What the tokens of HTTP_AUTH_TOKENS open: the /v1 API, as before named tokens existed; not the console. */
export const LEGACY_TOKEN_SCOPES: readonly Scope[] = Object.freeze(["control", "decide", "enqueue", "read"] as Scope[]);

const principals = new WeakMap<object, Principal>();

export function setPrincipal(request: FastifyRequest, principal: Principal): void {
  principals.set(request.raw, principal);
}

/** The principal of an authenticated request; undefined on routes that need none (/healthz, the docs). */
export function principalOf(request: FastifyRequest): Principal | undefined {
  return principals.get(request.raw);
}

/**
 * The principal of a request that passed authentication.
 * @throws Error when called on a route without authentication (a bug of the route's registration).
 */
export function requirePrincipal(request: FastifyRequest): Principal {
  const p = principalOf(request);
  if (!p) throw new Error(`no principal on ${request.method} ${request.url}: the route is not authenticated`);
  return p;
}

/**
 * Whether `p` may do what `scope` stands for. A token: exactly its scopes. A person: a viewer
 * reads (the console, the dashboard, `read`); an operator also changes things (every scope).
 */
export function may(p: Principal, scope: Scope): boolean {
  if (p.kind === "token") return p.scopes.includes(scope);
  if (scope === "read" || scope === "admin") return true;
  return p.role === "operator";
}

/** Whether `p` may read the console and the dashboard: a person, or a token with the `admin` scope. */
export function mayOpenConsole(p: Principal): boolean {
  return p.kind === "person" || p.scopes.includes("admin");
}

/** The principal of an `Authorization: Bearer …` header, or undefined when it names no token. */
export type BearerAuthenticator = (authorization: string | undefined) => Promise<Principal | undefined>;

/**
 * Authenticates bearer tokens: those of the environment first (HTTP_AUTH_TOKENS, HTTP_ADMIN_TOKENS,
 * compared in constant time, in memory), then named tokens by their digest in the access store.
 * A named token found is remembered for `cacheMs` (default 5 s), so a busy client costs Redis one
 * read per token every few seconds: a removed token stops working within that time.
 */
export function createBearerAuthenticator(options: {
  authTokens: readonly string[];
  adminTokens: readonly string[];
  access: Pick<AccessStore, "tokenByDigest">;
  cacheMs?: number;
  now?: () => number;
}): BearerAuthenticator {
  const legacy = options.authTokens.length > 0 ? createBearerAuth(options.authTokens) : () => false;
  const admin = options.adminTokens.length > 0 ? createBearerAuth(options.adminTokens) : () => false;
  const cacheMs = options.cacheMs ?? 5000;
  const now = options.now ?? Date.now;
  const cache = new Map<string, { token: StoredToken; until: number }>();
  const MAX_CACHED = 1000;
  return async (authorization) => {
    if (legacy(authorization)) return { kind: "token", name: "HTTP_AUTH_TOKENS", scopes: LEGACY_TOKEN_SCOPES };
    if (admin(authorization)) return { kind: "token", name: "HTTP_ADMIN_TOKENS", scopes: ["admin"] };
    const presented = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization ?? "")?.[1];
    // Named tokens are ours (newToken): anything else is not looked up.
    if (presented === undefined || !/^pci_[A-Za-z0-9_-]{43}$/.test(presented)) return undefined;
    const digest = secretDigest(presented);
    const cached = cache.get(digest);
    if (cached && cached.until > now()) return tokenPrincipal(cached.token);
    cache.delete(digest);
    const token = await options.access.tokenByDigest(digest);
    if (!token) return undefined;
    if (cache.size >= MAX_CACHED) cache.delete(cache.keys().next().value as string);
    cache.set(digest, { token, until: now() + cacheMs });
    return tokenPrincipal(token);
  };
}

function tokenPrincipal(t: StoredToken): Principal {
  return { kind: "token", name: t.name, scopes: t.scopes };
}

/**
 * The scope a /v1 route needs: a route may say so in its config (`{ scope: "decide" }`); else a
 * read (GET, HEAD) needs `read`, and a change the scope of its path below. A change on a path not
 * listed needs `admin` (closed by default).
 */
export function scopeOfRoute(method: string, routeUrl: string | undefined, configured?: unknown): Scope {
  if (typeof configured === "string") return configured as Scope;
  if (method === "GET" || method === "HEAD") return "read";
  switch (routeUrl) {
    case "/v1/acceptances":
    case "/v1/acceptances/batch":
    case "/v1/discoveries":
      return "enqueue";
    case "/v1/acceptances/:id/cancel":
    case "/v1/redrives":
      return "control";
    case "/v1/held/:catalog/:identifier/decision":
      return "decide";
    default:
      return "admin";
  }
}
