/**
 * Credentials out of URLs and text, for logs and messages. Used by the logger on every line and by
 * every message that names REDIS_URL.
 */

/** Query parameters that carry a credential (ioredis reads `?password=` as the Redis password). */
const SECRET_PARAMS = /^(password|pass|pwd|secret|token|auth|access_?key)$/i;

/**
 * `redis://user:secret@host:6379/0?password=x` → `redis://user:***@host:6379/0?password=***`.
 * An unparseable URL is not echoed at all: it might be a secret pasted in the wrong place.
 */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    for (const key of [...u.searchParams.keys()]) if (SECRET_PARAMS.test(key)) u.searchParams.set(key, "***");
    return u.toString();
  } catch {
    return "(unparseable url)";
  }
}

/**
 * Masks credentials in URLs anywhere in `text`: the password of `scheme://user:password@host`
 * and the value of credential-like query parameters (`?password=`, `&token=`…).
 */
export function maskSecretsInText(text: string): string {
  if (!text.includes("://") && !text.includes("=")) return text;
  return text
    .replace(/([a-z][a-z0-9+.-]*:\/\/[^\s:@/]*):[^\s@/]+@/gi, "$1:***@")
    .replace(/([?&](?:password|pass|pwd|secret|token|auth|access_?key)=)[^&#\s"']*/gi, "$1***");
}
