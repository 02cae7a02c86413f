/**
 * The kinds of problem the HTTP API answers with (RFC 9457 problem details). Each kind has a
 * stable `code` (what clients match on, unchanged since the API's first error format), one HTTP
 * status, a `title` that never changes from one occurrence to the next, and a `type` URI: a
 * relative reference, `/problems/<kind>`, the same on every deployment, which the server itself
 * answers with a page describing the kind (routes/docs.ts). docs/http-api.md "Problem types"
 * lists the same table; a test compares them.
 */
export interface ProblemType {
  status: number;
  title: string;
  /** What happened and what the client should do: the documentation of the kind. */
  about: string;
}

export const PROBLEM_TYPES = {
  INVALID_REQUEST: {
    status: 400,
    title: "Invalid request",
    about:
      "The request breaks a rule: malformed JSON, an empty body, a bad batch envelope, a field breaking the " +
      "request schema, an invalid Idempotency-Key header, or a malformed HTTP request. `issues` names each field " +
      "and rule (and, in a batch, the item's `index`). Fix the request; sending it again unchanged fails again.",
  },
  UNAUTHORIZED: {
    status: 401,
    title: "Missing or invalid bearer token",
    about:
      "No `Authorization: Bearer <token>` header, or a token that is not one of HTTP_AUTH_TOKENS. The answer " +
      "carries `WWW-Authenticate: Bearer`.",
  },
  FORBIDDEN: {
    status: 403,
    title: "Not allowed",
    about:
      "The credentials are valid but do not allow this: a named token without the route's scope (`enqueue`, " +
      "`read`, `decide`, `control`, `admin`), a token of HTTP_AUTH_TOKENS on the console or the dashboard, a " +
      "viewer changing something, or a console change without its CSRF token. `detail` says which.",
  },
  NOT_FOUND: {
    status: 404,
    title: "Not found",
    about:
      "No such route, or no request or outcome with this id (never enqueued, past retention, or a string " +
      "that cannot be a request id).",
  },
  REQUEST_TIMEOUT: {
    status: 408,
    title: "Request not received in time",
    about:
      "The headers did not arrive within HTTP_HEADERS_TIMEOUT_MS, or the whole request within " +
      "HTTP_REQUEST_TIMEOUT_MS. The connection is closed.",
  },
  NOT_CANCELABLE: {
    status: 409,
    title: "Request cannot be canceled",
    about:
      "Only a request that has not started (waiting, delayed, prioritized) can be canceled; `state` says " +
      "where this one is (active, completed, failed). A request sent to AWS before is canceled only if its " +
      "invitation, read first, is still pending: when AWS had applied it, `outcome` is how it ended instead.",
  },
  INVITATION_NOT_PENDING: {
    status: 409,
    title: "Invitation no longer pending",
    about:
      "A decision on an invitation that is no longer pending: accepted or rejected elsewhere, canceled or " +
      "expired. `invitationStatus` says which (AWS's status), `heldState` how its held record ended. Nothing " +
      "was enqueued; there is nothing left to decide.",
  },
  DECISION_CONFLICT: {
    status: 409,
    title: "Decided otherwise already",
    about:
      "Another decision on this invitation stands (another person, or a discovery policy, decided otherwise " +
      "first): `existing` names its request, action and who decided; `differences` the fields that differ. " +
      "Nothing was enqueued. The same decision again is answered with the first one's request instead.",
  },
  PAYLOAD_TOO_LARGE: {
    status: 413,
    title: "Request body too large",
    about: "The body is larger than HTTP_BODY_LIMIT_BYTES. Split a batch into smaller ones.",
  },
  UNSUPPORTED_MEDIA_TYPE: {
    status: 415,
    title: "Unsupported media type",
    about: "A POST body must be sent as `Content-Type: application/json` (a charset parameter is fine).",
  },
  IDEMPOTENCY_CONFLICT: {
    status: 422,
    title: "Idempotency key already used with another payload",
    about:
      "The idempotency key (the Idempotency-Key header or the body's `idempotencyKey`) was used before with a " +
      "different payload; nothing was enqueued. `differences` names the fields that differ. Use a new key " +
      "for a new request, or send the first payload again. 422, as draft-ietf-httpapi-idempotency-key-header " +
      "says for this case (its 409 means a request still being processed, which never happens here).",
  },
  HEADERS_TOO_LARGE: {
    status: 431,
    title: "Request headers too large",
    about: "The request line (its URL) and headers are over Node's limit (16 KiB).",
  },
  INTERNAL: {
    status: 500,
    title: "Internal error",
    about: "A bug of the server; it has been logged with the request id. The answer says nothing more.",
  },
  NOT_CONFIGURED: {
    status: 501,
    title: "Not configured on this server",
    about:
      "The server was built without this feature (buildHttpServer without `discovery` or `requestControl`); " +
      "`pc-invitations serve` has them all.",
  },
  AWS_ERROR: {
    status: 502,
    title: "Partner Central call failed",
    about:
      "A Partner Central call failed for good (after the retries of throttles and 5xx): `operation`, " +
      "`awsError`, `reason`, `awsHttpStatus` say which and why.",
  },
  BACKLOG_FULL: {
    status: 503,
    title: "Backlog full",
    about: "The requests queue holds more than HTTP_MAX_BACKLOG requests. Retry after `Retry-After` seconds.",
  },
  REDIS_UNAVAILABLE: {
    status: 503,
    title: "Redis unavailable",
    about:
      "Redis is unreachable, slower than HTTP_REDIS_TIMEOUT_MS, or refuses our credentials. `detail` says " +
      "whether the request may have been carried out; sending it again is safe. Retry after `Retry-After` seconds.",
  },
  REDIS_FULL: {
    status: 503,
    title: "Redis full",
    about: "Redis has reached maxmemory and refuses writes; nothing was written. Retry after `Retry-After` seconds.",
  },
  CANCEL_UNSETTLED: {
    status: 503,
    title: "Cancel could not be decided",
    about:
      "The request was sent to AWS before and its invitation could not be read, so whether AWS applied it is " +
      "unknown; nothing was canceled. Retry after `Retry-After` seconds.",
  },
  SHUTTING_DOWN: {
    status: 503,
    title: "Server shutting down",
    about: "The server is stopping. Retry after `Retry-After` seconds (another instance will answer).",
  },
} as const satisfies Record<string, ProblemType>;

export type ErrorCode = keyof typeof PROBLEM_TYPES;
export const ERROR_CODES = Object.keys(PROBLEM_TYPES) as [ErrorCode, ...ErrorCode[]];

/** `IDEMPOTENCY_CONFLICT` → `idempotency-conflict`: the last segment of the type URI. */
export function problemSlug(code: ErrorCode): string {
  return code.toLowerCase().replaceAll("_", "-");
}

/** Where the problem pages are served; also the prefix of every `type`. */
export const PROBLEMS_PATH = "/problems";

export function problemTypeUri(code: ErrorCode): string {
  return `${PROBLEMS_PATH}/${problemSlug(code)}`;
}

/** The code of a slug, or undefined for any other string. */
export function codeOfSlug(slug: string): ErrorCode | undefined {
  return ERROR_CODES.find((code) => problemSlug(code) === slug);
}
