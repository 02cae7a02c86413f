import { createHmac, randomBytes } from "node:crypto";

/**
 * Standard Webhooks 1.0 signatures (https://www.standardwebhooks.com): a secret is `whsec_` and
 * base64 of 24 to 64 random bytes; the signed content is `<webhook-id>.<webhook-timestamp>.<body>`;
 * `webhook-signature` is `v1,<base64 HMAC-SHA256>`, space-separated, one per secret while a
 * secret is rotated out (a receiver accepts any that verifies).
 */
export const SECRET_PREFIX = "whsec_";

/** A new secret: 32 random bytes. */
export function newWebhookSecret(): string {
  return `${SECRET_PREFIX}${randomBytes(32).toString("base64")}`;
}

export const SECRET_RULE = "must be whsec_ followed by base64 of 24 to 64 bytes";

/** The key bytes of a secret, or undefined when it is not one (SECRET_RULE). */
export function secretKey(secret: string): Buffer | undefined {
  if (!secret.startsWith(SECRET_PREFIX)) return undefined;
  const b64 = secret.slice(SECRET_PREFIX.length);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) return undefined;
  const key = Buffer.from(b64, "base64");
  return key.length >= 24 && key.length <= 64 ? key : undefined;
}

/** The `webhook-signature` header: `v1,<sig>` for each secret, in the order given. */
export function signatureHeader(secrets: readonly string[], id: string, timestampSec: number, body: string): string {
  const content = `${id}.${timestampSec}.${body}`;
  return secrets
    .flatMap((secret) => {
      const key = secretKey(secret);
      return key ? [`v1,${createHmac("sha256", key).update(content).digest("base64")}`] : [];
    })
    .join(" ");
}
