import { createHash, randomBytes, scrypt, timingSafeEqual } from "node:crypto";

/**
 * The secrets of the access model, and how each is kept: only what cannot be turned back into
 * the secret is stored.
 * - A token is 32 random bytes (base64url, `pci_` in front so it is recognisable in a leak scan);
 *   it is shown once and stored as its SHA-256 digest: it has 256 bits of entropy, so a fast hash
 *   is enough, and a lookup by digest costs one Redis read per request.
 * - A password is chosen by a person, so it is stored as a slow, salted hash: scrypt
 *   (N=2^15, r=8, p=1: 32 MiB and ~50-100 ms a hash), its parameters written beside it so they
 *   can be raised later without breaking the hashes already stored.
 * - A session id is 32 random bytes, kept in the browser's cookie; Redis keeps its digest.
 */

const TOKEN_PREFIX = "pci_";
const SCRYPT = { N: 1 << 15, r: 8, p: 1, keylen: 32 } as const;

export function newToken(): string {
  return TOKEN_PREFIX + randomBytes(32).toString("base64url");
}

/** A random id for a session or a CSRF token. */
export function newSecret(): string {
  return randomBytes(32).toString("base64url");
}

/** SHA-256 in hex: how tokens and session ids are stored and looked up. */
export function secretDigest(secret: string): string {
  return createHash("sha256").update(secret, "utf8").digest("hex");
}

/** `scrypt$N$r$p$salt$hash` (salt and hash base64url). */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scryptAsync(password, salt, SCRYPT.N, SCRYPT.r, SCRYPT.p, SCRYPT.keylen);
  return ["scrypt", SCRYPT.N, SCRYPT.r, SCRYPT.p, salt.toString("base64url"), hash.toString("base64url")].join("$");
}

/** Whether `password` is the one `stored` was made from; constant-time on the hash. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split("$");
  if (parts.length !== 6 || parts[0] !== "scrypt") return false;
  const [N, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  // Parameters read back from the store are bounded: a corrupted record cannot make us allocate GiBs.
  if (![N, r, p].every(Number.isSafeInteger) || N > 1 << 20 || r > 32 || p > 16) return false;
  const salt = Buffer.from(parts[4]!, "base64url");
  const expected = Buffer.from(parts[5]!, "base64url");
  if (expected.length < 16) return false;
  const actual = await scryptAsync(password, salt, N, r, p, expected.length);
  return timingSafeEqual(actual, expected);
}

/**
 * A hash to compare against when the user does not exist, so a login for an unknown name takes as
 * long as one for a known name (the answer's timing does not tell which names exist).
 */
export const DUMMY_PASSWORD_HASH =
  "scrypt$32768$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

function scryptAsync(password: string, salt: Buffer, N: number, r: number, p: number, keylen: number): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password, salt, keylen, { N, r, p, maxmem: 256 * N * r + 1024 * 1024 }, (err, key) =>
      err ? reject(err) : resolve(key),
    ),
  );
}
