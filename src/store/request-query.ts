import { z } from "zod";
import { ListQueryError } from "../errors/index.js";
import { catalogSchema, invitationIdSchema } from "../schemas/request-fields.js";
import { type FieldIssue, toFieldIssues } from "../schemas/issues.js";

/**
 * A listing of requests (GET /v1/acceptances, the library's listAcceptances): its filters, its
 * bounded page size, and its opaque cursor. The rules live here, so the HTTP API, the library and
 * both stores refuse the same things with the same words.
 *
 * What a listing walks, and in which order:
 * - `state`: that state of the requests queue. waiting and active: oldest first (the order workers
 *   take them); prioritized and delayed: next due first; failed and completed: most recently
 *   finished first.
 * - `identifier` (and `catalog`): that invitation's requests, oldest first, whatever their state
 *   (a `state` given too keeps those in it: such a page may hold fewer than `limit` items).
 * - neither: every request the queue holds, state by state in the order of LIST_STATES.
 *
 * A page never skips a request that stayed where it was between two pages. A request that moved
 * meanwhile (taken by a worker, finished) may be missed by the listing of its old state or show up
 * again in its new one; dedupe by id. Follow `next` until it is null.
 */
export const LIST_STATES = ["active", "waiting", "prioritized", "delayed", "failed", "completed"] as const;
export type ListState = (typeof LIST_STATES)[number];

/** Items per page when no `limit` is given. */
export const LIST_LIMIT_DEFAULT = 50;
/** Most items per page: a page reads about twice this many keys. */
export const LIST_LIMIT_MAX = 200;
/** Longest cursor accepted (the ones we make are under 300 characters). */
const CURSOR_MAX_LENGTH = 1024;

/** A listing's `cursor` parameter: the previous page's `next`, opaque, at most CURSOR_MAX_LENGTH characters. */
export function cursorParamSchema() {
  return z
    .string({ error: "must be a string" })
    .min(1, { error: "must not be empty" })
    .max(CURSOR_MAX_LENGTH, { error: `must be at most ${CURSOR_MAX_LENGTH} characters` })
    .optional()
    .describe("The previous page's `next`, as it was (opaque).");
}

/** A listing's `limit` parameter, 1 to `max`: a number (library) or its digits (a URL's query). */
export function limitParamSchema(max: number, defaultLimit: number) {
  const rule = `must be a whole number from 1 to ${max}`;
  return z
    .union(
      [
        z.number({ error: rule }),
        z
          .string()
          .regex(/^\d{1,4}$/, { error: rule })
          .transform(Number),
      ],
      {
        error: rule,
      },
    )
    .pipe(z.number().int({ error: rule }).min(1, { error: rule }).max(max, { error: rule }))
    .optional()
    .describe(`Items per page, 1-${max} (default ${defaultLimit}).`);
}

/** The query as it arrives: strings from a URL or a command line, numbers from the library. */
export const requestQuerySchema = z.strictObject(
  {
    state: z
      .enum(LIST_STATES, { error: `must be one of ${LIST_STATES.join(", ")}` })
      .optional()
      .describe("Only requests in this state of the requests queue."),
    identifier: invitationIdSchema.optional().describe("Only this invitation's requests."),
    catalog: catalogSchema.optional().describe("With identifier: only requests of this catalog."),
    cursor: cursorParamSchema(),
    limit: limitParamSchema(LIST_LIMIT_MAX, LIST_LIMIT_DEFAULT),
  },
  {
    error: (issue) =>
      issue.code === "unrecognized_keys"
        ? `unknown parameter(s): ${issue.keys.join(", ")} (state, identifier, catalog, cursor, limit)`
        : "must be an object",
  },
);

export type RequestQueryInput = z.input<typeof requestQuerySchema>;

/** A checked query. */
export interface RequestQuery {
  state?: ListState;
  identifier?: string;
  catalog?: string;
  cursor?: string;
  limit: number;
}

/** The query checked, or each broken rule by field. A catalog alone is refused: it narrows an identifier. */
export function parseRequestQuery(input: unknown): { query: RequestQuery } | { issues: FieldIssue[] } {
  // A parameter we do not know is named as the field itself: `sort: is not a parameter…`.
  const unknown =
    input !== null && typeof input === "object"
      ? Object.keys(input).filter((k) => !Object.hasOwn(requestQuerySchema.shape, k))
      : [];
  if (unknown.length > 0)
    return {
      issues: unknown.map((field) => ({
        field,
        rule: `is not a parameter of this listing (${Object.keys(requestQuerySchema.shape).join(", ")})`,
      })),
    };
  const parsed = requestQuerySchema.safeParse(input ?? {});
  if (!parsed.success) return { issues: toFieldIssues(parsed.error) };
  const { state, identifier, catalog, cursor, limit } = parsed.data;
  if (catalog !== undefined && identifier === undefined)
    return { issues: [{ field: "catalog", rule: "goes with identifier (it narrows an invitation's requests)" }] };
  const query: RequestQuery = {
    limit: limit ?? LIST_LIMIT_DEFAULT,
    ...(state ? { state } : {}),
    ...(identifier ? { identifier } : {}),
    ...(catalog ? { catalog } : {}),
    ...(cursor ? { cursor } : {}),
  };
  if (cursor !== undefined) {
    const issue = cursorIssue(query);
    if (issue) return { issues: [issue] };
  }
  return { query };
}

/** parseRequestQuery, or ListQueryError naming each broken rule. */
export function requestQueryOf(input: unknown): RequestQuery {
  const result = parseRequestQuery(input);
  if ("issues" in result) throw new ListQueryError(result.issues);
  return result.query;
}

/**
 * Where a page ends, inside the listing: the source it was reading (a state, or `identifier`), and
 * the last item it returned there (its id, and its offset in a list or its score in a sorted set).
 * Without `id`, the next page starts at the beginning of `source`.
 */
export interface ListPosition {
  source: ListState | "identifier";
  at?: number | string;
  id?: string;
}

/** The sources a query walks, in order. */
export function listSources(query: RequestQuery): Array<ListPosition["source"]> {
  if (query.identifier) return ["identifier"];
  return query.state ? [query.state] : [...LIST_STATES];
}

interface CursorBody {
  v: 1;
  /** The query's filters: a cursor is only good for the query that made it. */
  f: string;
  s: ListPosition["source"];
  a?: number | string;
  i?: string;
}

const filtersOf = (query: RequestQuery) => [query.state ?? "", query.identifier ?? "", query.catalog ?? ""].join("|");

/** The opaque cursor of `position` in the listing of `query`. */
export function encodeListCursor(query: RequestQuery, position: ListPosition): string {
  const body: CursorBody = {
    v: 1,
    f: filtersOf(query),
    s: position.source,
    ...(position.at !== undefined ? { a: position.at } : {}),
    ...(position.id !== undefined ? { i: position.id } : {}),
  };
  return Buffer.from(JSON.stringify(body)).toString("base64url");
}

/** Where `query`'s cursor says to go on (the start of its first source without one). @throws ListQueryError */
export function listPositionOf(query: RequestQuery): ListPosition {
  if (query.cursor === undefined) return { source: listSources(query)[0]! };
  const decoded = decodeCursor(query);
  if ("issue" in decoded) throw new ListQueryError([decoded.issue]);
  return decoded.position;
}

function cursorIssue(query: RequestQuery): FieldIssue | undefined {
  const decoded = decodeCursor(query);
  return "issue" in decoded ? decoded.issue : undefined;
}

function decodeCursor(query: RequestQuery): { position: ListPosition } | { issue: FieldIssue } {
  const bad = (rule: string) => ({ issue: { field: "cursor", rule } });
  let body: Partial<CursorBody>;
  try {
    body = JSON.parse(Buffer.from(query.cursor!, "base64url").toString("utf8")) as Partial<CursorBody>;
  } catch {
    return bad("must be the `next` of a previous page, as it was");
  }
  const sources = listSources(query);
  const at = body?.a;
  if (
    body === null ||
    typeof body !== "object" ||
    body.v !== 1 ||
    typeof body.f !== "string" ||
    !sources.includes(body.s as ListPosition["source"]) ||
    !(at === undefined || typeof at === "string" || (typeof at === "number" && Number.isFinite(at))) ||
    !(body.i === undefined || typeof body.i === "string")
  ) {
    return body?.v === 1 && typeof body.f === "string" && body.f !== filtersOf(query)
      ? bad("belongs to a listing with other filters (state, identifier, catalog): start again without a cursor")
      : bad("must be the `next` of a previous page, as it was");
  }
  if (body.f !== filtersOf(query))
    return bad("belongs to a listing with other filters (state, identifier, catalog): start again without a cursor");
  return {
    position: {
      source: body.s as ListPosition["source"],
      ...(at !== undefined ? { at } : {}),
      ...(body.i !== undefined ? { id: body.i } : {}),
    },
  };
}
