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
