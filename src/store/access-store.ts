import type { Role, Scope } from "../schemas/access.js";

/**
 * The access store: named tokens, people and their sessions (issue 20). The port every caller
 * speaks; redis/access.ts keeps it in Redis under the queue prefix. Only digests and slow hashes
 * are stored (access-secrets.ts): a copy of Redis gives no token, password or session.
 */
export interface AccessStore {
  /** @throws AccessNameTakenError when a token of that name exists (remove it first). */
  addToken(token: StoredToken): Promise<void>;
  listTokens(): Promise<StoredToken[]>;
  /** Whether a token of that name existed. */
  removeToken(name: string): Promise<boolean>;
  /** The token whose digest this is, or undefined. */
  tokenByDigest(digest: string): Promise<StoredToken | undefined>;

  /** @throws AccessNameTakenError when a person of that name exists. */
  addUser(user: StoredUser): Promise<void>;
  listUsers(): Promise<StoredUser[]>;
  /** Whether the person existed. Their sessions end with them (each request reads the person). */
  removeUser(name: string): Promise<boolean>;
  user(name: string): Promise<StoredUser | undefined>;

  /** Keeps a session for `ttlMs` (its expiry: absolute, not renewed). */
  addSession(digest: string, session: StoredSession, ttlMs: number): Promise<void>;
  session(digest: string): Promise<StoredSession | undefined>;
  removeSession(digest: string): Promise<void>;
}

export interface StoredToken {
  name: string;
  scopes: Scope[];
  /** secretDigest(token). */
  digest: string;
  /** ISO 8601. */
  createdAt: string;
}

export interface StoredUser {
  name: string;
  role: Role;
  /** hashPassword(password). */
  passwordHash: string;
  createdAt: string;
}

export interface StoredSession {
  user: string;
  /** The CSRF token every change made in this session carries. */
  csrf: string;
  createdAt: string;
  expiresAt: string;
}

/** What `tokens list` and `users list` show: never a digest or a hash. */
export function describeToken(t: StoredToken): { name: string; scopes: Scope[]; createdAt: string } {
  return { name: t.name, scopes: t.scopes, createdAt: t.createdAt };
}
export function describeUser(u: StoredUser): { name: string; role: Role; createdAt: string } {
  return { name: u.name, role: u.role, createdAt: u.createdAt };
}
