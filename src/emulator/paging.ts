/**
 * NextToken paging for the List operations.
 *
 * A token is opaque to clients: base64url of `{ v, op, after, filter }`,
 * where `after` is the `seq` of the last item of the page it ends and
 * `filter` the canonical form of the filters it was issued for. So:
 * - order is stable (insertion order), items added while paging appear on a
 *   later page, removed ones simply do not, and no item is returned twice;
 * - a page ends with NextToken only if at least one more item matches, so
 *   the last page never comes back empty;
 * - a token that does not decode, or was issued by another operation or for
 *   other filters, is a 400 ValidationException naming NextToken (AWS also
 *   refuses tokens that do not belong to the request). MaxResults may change
 *   from page to page.
 */
import type { Listed } from "./state.js";
import { fail } from "./wire.js";

/** `@default(20)` of MaxResults on both List operations. */
export const DEFAULT_MAX_RESULTS = 20;

interface TokenBody {
  v: 1;
  op: string;
  after: number;
  filter: string;
}

export function encodeNextToken(op: string, after: number, filter: string): string {
  const body: TokenBody = { v: 1, op, after, filter };
  return Buffer.from(JSON.stringify(body), "utf8").toString("base64url");
}

/** The `seq` to continue after: 0 without a token; throws a ValidationException for a foreign token. */
export function decodeNextToken(token: unknown, op: string, filter: string): number {
  if (token === undefined || token === null) return 0;
  let body: Partial<TokenBody> | undefined;
  try {
    body = JSON.parse(Buffer.from(String(token), "base64url").toString("utf8")) as Partial<TokenBody>;
  } catch {
    body = undefined;
  }
  if (
    body === undefined ||
    body === null ||
    body.v !== 1 ||
    body.op !== op ||
    body.filter !== filter ||
    typeof body.after !== "number" ||
    !Number.isInteger(body.after) ||
    body.after < 0
  ) {
    fail("ValidationException", "The NextToken is invalid or does not belong to this request", {
      reason: "REQUEST_VALIDATION_FAILED",
      errorDetails: [
        { FieldValidationError: { Name: "NextToken", Message: "Invalid NextToken", Code: "INVALID_VALUE" } },
      ],
    });
  }
  return body.after;
}

/** Takes up to `limit` items, and reports whether another one follows (then `after` is the last seq taken). */
export function takePage<T>(items: Iterable<Listed<T>>, limit: number): { page: T[]; after?: number } {
  const page: T[] = [];
  let lastSeq = 0;
  for (const item of items) {
    if (page.length === limit) return { page, after: lastSeq };
    page.push(item.record);
    lastSeq = item.seq;
  }
  return { page };
}
