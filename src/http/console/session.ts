import { timingSafeEqual } from "node:crypto";
import type { FastifyRequest } from "fastify";
import type { AccessStore } from "../../store/access-store.js";
import { DUMMY_PASSWORD_HASH, newSecret, secretDigest, verifyPassword } from "../../store/access-secrets.js";
import type { Principal } from "../principal.js";

/**
 * The console's sessions: a random id in a cookie (HttpOnly, SameSite=Strict, Path=/, Secure and
 * `__Host-` named when the request came over TLS), its digest as the key of the session in Redis
 * with a TTL (the absolute expiry: CONSOLE_SESSION_TTL_MS), and a CSRF token per session that
 * every change carries in a hidden field. Each request reads the person again, so removing a
 * person or changing their role takes effect at once.
 */
export const COOKIE = "pci_session";
export const SECURE_COOKIE = "__Host-pci_session";

export interface ConsoleSession {
  principal: Extract<Principal, { kind: "person" }>;
  csrf: string;
  /** The digest of the session id (to end it). */
  digest: string;
}

export function parseCookies(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (header ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq <= 0) continue;
    const name = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (!out.has(name)) out.set(name, value);
  }
  return out;
}

/** Whether the request came over TLS (directly, or X-Forwarded-Proto when HTTP_TRUST_PROXY). */
export function overTls(request: FastifyRequest): boolean {
  return request.protocol === "https";
}

export function sessionCookie(request: FastifyRequest, value: string, maxAgeSeconds: number): string {
  const secure = overTls(request);
  return [
    `${secure ? SECURE_COOKIE : COOKIE}=${value}`,
    "Path=/",
    "HttpOnly",
    "SameSite=Strict",
    `Max-Age=${Math.max(0, Math.floor(maxAgeSeconds))}`,
    ...(secure ? ["Secure"] : []),
  ].join("; ");
}

export function createSessions(options: {
  access: AccessStore;
  ttlMs: number;
  now?: () => number;
  /** Bounds each Redis call (HTTP_REDIS_TIMEOUT_MS); the password's hash is not bounded by it. */
  bounded?: <T>(promise: Promise<T>) => Promise<T>;
}) {
  const { ttlMs } = options;
  const bounded = options.bounded ?? (<T>(p: Promise<T>) => p);
  const a = options.access;
  const access: Pick<AccessStore, "user" | "addSession" | "session" | "removeSession"> = {
    user: (name) => bounded(a.user(name)),
    addSession: (digest, session, ttl) => bounded(a.addSession(digest, session, ttl)),
    session: (digest) => bounded(a.session(digest)),
    removeSession: (digest) => bounded(a.removeSession(digest)),
  };
  const now = options.now ?? Date.now;
  return {
    ttlMs,
    /**
     * A new session for `username` when the password is theirs. A name that does not exist takes
     * as long as a wrong password (a hash is compared either way).
     */
    async login(username: string, password: string): Promise<{ id: string } | undefined> {
      const user = await access.user(username);
      const ok = await verifyPassword(password, user?.passwordHash ?? DUMMY_PASSWORD_HASH);
      if (!user || !ok) return undefined;
      const id = newSecret();
      const at = now();
      await access.addSession(
        secretDigest(id),
        {
          user: user.name,
          csrf: newSecret(),
          createdAt: new Date(at).toISOString(),
          expiresAt: new Date(at + ttlMs).toISOString(),
        },
        ttlMs,
      );
      return { id };
    },
    /** The session of the request's cookie, with its person as they are now; undefined when none. */
    async resolve(request: FastifyRequest): Promise<ConsoleSession | undefined> {
      const cookies = parseCookies(request.headers.cookie);
      const id = cookies.get(SECURE_COOKIE) ?? cookies.get(COOKIE);
      if (!id || !/^[A-Za-z0-9_-]{43}$/.test(id)) return undefined;
      const digest = secretDigest(id);
      const session = await access.session(digest);
      if (!session || Date.parse(session.expiresAt) <= now()) return undefined;
      const user = await access.user(session.user);
      if (!user) return undefined;
      return { principal: { kind: "person", name: user.name, role: user.role }, csrf: session.csrf, digest };
    },
    logout: (digest: string) => access.removeSession(digest),
  };
}
export type Sessions = ReturnType<typeof createSessions>;

/** Whether `presented` is the session's CSRF token (constant time). */
export function csrfMatches(expected: string, presented: unknown): boolean {
  if (typeof presented !== "string") return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(presented);
  return a.length === b.length && timingSafeEqual(a, b);
}
