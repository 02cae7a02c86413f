/**
 * SDK error → our taxonomy, as plain data. Pure: no I/O, no SDK import (it reads the fields the
 * SDK puts on its exceptions: name, $fault, $retryable, $metadata, Reason, ErrorDetails, $response).
 *
 * - throttle:  ThrottlingException or HTTP 429. The whole queue slows down.
 * - transient: InternalServerException, 5xx, network errors, timeouts. Retried with backoff.
 * - fault:     the worker cannot sign or authenticate its calls (no usable credentials, an
 *              expired session token, a skewed clock, an unknown access key). A fault of the
 *              worker, not of the invitation: the work pauses and the request stays queued.
 * - terminal:  everything else (400/402/403/404/409 and unmodelled 4xx). Never retried.
 */
export type ErrorKind = "terminal" | "transient" | "throttle" | "fault";

export interface ClassifiedError {
  name: string;
  kind: ErrorKind;
  reason: string | null;
  message: string;
  httpStatus: number | null;
  awsRequestId: string | null;
  /** From Retry-After (s or HTTP date) or x-amz-retry-after (ms), when AWS sent one. */
  retryAfterMs: number | null;
  /**
   * The request may have been carried out although we got no success answer: a 5xx, a reset
   * or timed-out connection. Not for refusals before AWS acted (429, ECONNREFUSED, DNS).
   */
  indeterminate: boolean;
  details?: Array<Record<string, unknown>>;
}

const NETWORK_CODES = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ECONNABORTED",
]);
const TIMEOUT_NAMES = new Set(["TimeoutError", "RequestTimeout", "RequestTimeoutException"]);
/**
 * Errors that say the caller's credentials or signature are unusable, whatever the request:
 * the SDK's own (no credentials found) and AWS's authentication answers (403/400).
 */
const FAULT_NAMES = new Set([
  "CredentialsProviderError",
  "ExpiredTokenException",
  "ExpiredToken",
  "InvalidSignatureException",
  "SignatureDoesNotMatch",
  "UnrecognizedClientException",
  "InvalidClientTokenId",
  "IncompleteSignature",
  "IncompleteSignatureException",
  "MissingAuthenticationTokenException",
  "MissingAuthenticationToken",
  "TokenRefreshRequired",
]);
/** Network failures that happen before the request can have reached AWS. */
const NEVER_SENT_CODES = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH"]);

interface SdkLikeError {
  name?: unknown;
  message?: unknown;
  code?: unknown;
  Reason?: unknown;
  ErrorDetails?: unknown;
  $fault?: unknown;
  $retryable?: unknown;
  $metadata?: { httpStatusCode?: unknown; requestId?: unknown };
  $response?: { headers?: Record<string, unknown> };
  cause?: unknown;
}

export function classifyError(error: unknown, now: number = Date.now()): ClassifiedError {
  const e: SdkLikeError = error !== null && typeof error === "object" ? (error as SdkLikeError) : {};
  const name = typeof e.name === "string" && e.name ? e.name : "Error";
  const message = typeof e.message === "string" ? e.message : String(error);
  const httpStatus = typeof e.$metadata?.httpStatusCode === "number" ? e.$metadata.httpStatusCode : null;
  const awsRequestId = typeof e.$metadata?.requestId === "string" ? e.$metadata.requestId : null;
  const base = {
    reason: typeof e.Reason === "string" ? e.Reason : null,
    message,
    httpStatus,
    awsRequestId,
    retryAfterMs: retryAfter(e.$response?.headers, now),
    ...(Array.isArray(e.ErrorDetails) ? { details: e.ErrorDetails as Array<Record<string, unknown>> } : {}),
  };

  if (name === "ThrottlingException" || httpStatus === 429)
    return { ...base, name, kind: "throttle", indeterminate: false };
  // Authentication is checked before AWS acts on a request: nothing can have happened.
  if (FAULT_NAMES.has(name)) return { ...base, name, kind: "fault", indeterminate: false };
  const code = httpStatus === null ? networkCode(e) : undefined;
  if (httpStatus === null && (code !== undefined || TIMEOUT_NAMES.has(name))) {
    return {
      ...base,
      name: "NetworkError",
      kind: "transient",
      message: `${code ?? name}: ${message}`,
      indeterminate: code === undefined || !NEVER_SENT_CODES.has(code),
    };
  }
  if (name === "InternalServerException" || (httpStatus !== null && httpStatus >= 500) || e.$retryable !== undefined) {
    return { ...base, name, kind: "transient", indeterminate: httpStatus === null || httpStatus >= 500 };
  }
  return { ...base, name, kind: "terminal", indeterminate: false };
}

function networkCode(e: SdkLikeError): string | undefined {
  for (let cur: unknown = e, depth = 0; cur && typeof cur === "object" && depth < 5; depth++) {
    const code = (cur as { code?: unknown }).code;
    if (typeof code === "string" && NETWORK_CODES.has(code)) return code;
    cur = (cur as { cause?: unknown }).cause;
  }
  return undefined;
}

function retryAfter(headers: Record<string, unknown> | undefined, now: number): number | null {
  if (!headers) return null;
  const get = (k: string) => {
    for (const [hk, hv] of Object.entries(headers))
      if (hk.toLowerCase() === k) return typeof hv === "string" ? hv : undefined;
    return undefined;
  };
  const ms = get("x-amz-retry-after");
  if (ms && /^\d+$/.test(ms)) return Number(ms);
  const ra = get("retry-after");
  if (!ra) return null;
  if (/^\d+(\.\d+)?$/.test(ra)) return Math.round(Number(ra) * 1000);
  const at = Date.parse(ra);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}
