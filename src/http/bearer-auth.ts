import { createHash, timingSafeEqual } from "node:crypto";

/**
 * Checks `Authorization: Bearer <token>` against the configured tokens. Tokens are compared as
 * SHA-256 digests with timingSafeEqual: equal-length inputs, so neither a token's content nor its
 * length leaks through timing, and every configured token is compared (no early exit), so timing
 * does not tell which one matched either. Several tokens allow rotation: add the new one, move
 * clients, remove the old one.
 */
export function createBearerAuth(tokens: readonly string[]): (authorization: string | undefined) => boolean {
  const digests = tokens.map(sha256);
  return (authorization) => {
    const presented = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization ?? "")?.[1];
    if (presented === undefined) return false;
    const digest = sha256(presented);
    let ok = false;
    for (const d of digests) ok = timingSafeEqual(d, digest) || ok;
    return ok;
  };
}

function sha256(value: string): Buffer {
  return createHash("sha256").update(value, "utf8").digest();
}

/**
 * Who presented a bearer token, as far as the tokens tell (they are anonymous): `token:` and the
 * first 12 hex digits of its SHA-256, the same for every request with that token and never the
 * token itself; undefined without one. What a decision made over HTTP records as `decidedBy`.
 */
export function bearerIdentity(authorization: string | undefined): string | undefined {
  const presented = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization ?? "")?.[1];
  return presented === undefined ? undefined : `token:${sha256(presented).toString("hex").slice(0, 12)}`;
}
