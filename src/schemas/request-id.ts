/** Longest request id: longer cannot be a job id of ours (`<catalog ≤64>.<identifier>.<suffix>`). */
export const MAX_REQUEST_ID_LENGTH = 512;

/**
 * What a request id can look like: `<catalog>.<rest>`, without `:`. Anything else is not ours and
 * is never looked up in Redis: BullMQ keeps queue-level keys next to the jobs (`events`, `meta`,
 * `id`, `wait`… none has a `.`) and per-job ones after a `:` (`<id>:lock`, `<id>:logs`), and
 * reading those as jobs fails with WRONGTYPE (or, for a hash such as `meta`, reads a job that is
 * none). The request records (`idem:…`, `idem-open`) are kept out the same way.
 */
export const REQUEST_ID = /^[A-Za-z0-9-]{1,64}\.[A-Za-z0-9._-]+$/;

/** The rule in words, as errors name it. */
export const REQUEST_ID_RULE =
  `must be a request id: <catalog>.<…> of letters, digits, ".", "_" ` +
  `and "-" (no ":"), at most ${MAX_REQUEST_ID_LENGTH} characters`;

/**
 * Whether `id` can be one of our request ids. The one check of every caller that takes an id from
 * outside: the HTTP routes (404 for a non-id) and cancelRequest (CancelValidationError).
 */
export function isRequestId(id: string): boolean {
  return id.length <= MAX_REQUEST_ID_LENGTH && REQUEST_ID.test(id);
}

/**
 * Whether BullMQ takes `id` as a custom job id: not a number ("Custom Id cannot be integers"), no
 * ":". A request's outcome is stored under its request's id, so a job whose id breaks this (one
 * added without a jobId, which BullMQ numbers) can never get an outcome: it is not a request of
 * ours, and the worker and the sweeper leave it alone without calling the API.
 */
export function canCarryOutcome(id: string): boolean {
  return String(Number.parseInt(id, 10)) !== id && !id.includes(":");
}
