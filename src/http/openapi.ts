import { z } from "zod";
import { acceptRequestSchema } from "../contracts/request.js";
import { outcomeEventSchema } from "../contracts/outcome.js";
import { discoveryRequestSchema } from "../schemas/policy.js";
import { LIST_LIMIT_DEFAULT, LIST_LIMIT_MAX, LIST_STATES } from "../store/request-query.js";
import {
  acceptanceListSchema,
  acceptanceStatusSchema,
  batchRequestSchema,
  batchResultSchema,
  cancelBodySchema,
  discoverySummarySchema,
  enqueueResultSchema,
  problemSchema,
  healthSchema,
  readinessSchema,
  redriveBodySchema,
  redriveSummarySchema,
  statusReportSchema,
  heldListSchema,
  decisionResultSchema,
} from "./http-schemas.js";
import { decisionBodySchema } from "../schemas/decision.js";
import { HELD_LIST_DEFAULT, HELD_LIST_MAX } from "../store/held-store.js";
import { MAX_REQUEST_ID_LENGTH } from "../schemas/request-id.js";
import { INTERNAL, problem, type ProblemBody, unauthorized, UNSUPPORTED_MEDIA_TYPE } from "./http-errors.js";
import { type ErrorCode, ERROR_CODES, problemSlug } from "./problem-types.js";
import { WEBHOOK_EVENT_TYPES } from "../delivery/webhook-admin.js";

/** HTTP_MAX_BATCH's default: the committed openapi.json is generated with it. */
export const DEFAULT_MAX_BATCH = 500;

/** The version of the API's contract: 1.1.0 brought problem details, Idempotency-Key and Location. */
export const API_VERSION = "1.1.0";

type Json = Record<string, unknown>;

/** What cannot be a request id, and is answered 404 without a look-up. */
const NOT_AN_ID = `not \`<catalog>.<…>\`, a \`:\` in it, or over ${MAX_REQUEST_ID_LENGTH} characters; never looked up`;

const PROBLEM_JSON = "application/problem+json";

/**
 * OpenAPI 3.1 document of the HTTP API, generated from the zod schemas (so it cannot disagree with
 * what the server checks). The committed openapi.json is this with the default HTTP_MAX_BATCH; a
 * test fails when they drift (`npm run openapi:export` rewrites it), and another lints it with
 * @redocly/cli (redocly.yaml). The server serves it with its own HTTP_MAX_BATCH.
 */
export function buildOpenApiDocument(options: { maxBatch?: number } = {}): Json {
  const maxBatch = options.maxBatch ?? DEFAULT_MAX_BATCH;
  const schemas = componentSchemas([
    ["AcceptRequest", acceptRequestSchema, "input"],
    ["BatchRequest", batchRequestSchema(maxBatch), "input"],
    ["EnqueueResult", enqueueResultSchema, "output"],
    ["BatchResult", batchResultSchema, "output"],
    ["AcceptanceStatus", acceptanceStatusSchema, "output"],
    ["AcceptanceList", acceptanceListSchema, "output"],
    ["Status", statusReportSchema, "output"],
    ["OutcomeEvent", outcomeEventSchema, "output"],
    ["DiscoveryRequest", discoveryRequestSchema, "input"],
    ["DiscoverySummary", discoverySummarySchema, "output"],
    ["CancelRequest", cancelBodySchema, "input"],
    ["RedriveRequest", redriveBodySchema, "input"],
    ["RedriveSummary", redriveSummarySchema, "output"],
    ["Problem", problemSchema, "output"],
    ["Health", healthSchema, "output"],
    ["Readiness", readinessSchema, "output"],
    ["HeldList", heldListSchema, "output"],
    ["DecisionRequest", decisionBodySchema, "input"],
    ["DecisionResult", decisionResultSchema, "output"],
  ]);
  const json = (name: string) => ({ "application/json": { schema: ref(name) } });
  const text = (mediaType: string, description: string) => ({
    description,
    content: { [mediaType]: { schema: { type: "string" } } },
  });
  const response = (name: string) => ({ $ref: `#/components/responses/${name}` });
  /** Any operation: what Node or the server answers before or around every route. */
  const anyRoute = { "4XX": response("ClientError"), "5XX": response("ServerError") };
  const authenticated = {
    "401": response("Unauthorized"),
    "403": response("Forbidden"),
    "503": response("Unavailable"),
    ...anyRoute,
  };
  const withBody = {
    "400": response("InvalidRequest"),
    "413": response("PayloadTooLarge"),
    "415": response("UnsupportedMediaType"),
  };
  const publicOp = { security: [] };
  const publicResponses = { "503": response("ShuttingDown"), ...anyRoute };
  const idParameter = {
    name: "id",
    in: "path",
    required: true,
    description: "`jobId` returned by the POST (percent-encoded).",
    schema: { type: "string" },
  };

  const webhookIdParameter = {
    name: "id",
    in: "path",
    required: true,
    description: "The endpoint's `id` (as `POST /v1/webhooks` answered it).",
    schema: { type: "string" },
  };
  const webhookNotFound = {
    description: "NOT_FOUND: no endpoint with this id.",
    content: problemContent(problemExample("NOT_FOUND", 'no webhook endpoint "wh_x"')),
  };

  return {
    openapi: "3.1.0",
    info: {
      title: "pc-invitations HTTP API",
      version: API_VERSION,
      description:
        "Enqueue AWS Partner Central connection-invitation acceptances and rejections, read their " +
        "state and outcome, cancel them; discover pending invitations and redrive failures.\n\n" +
        "Every `/v1` and `/admin` route needs `Authorization: Bearer <token>` (one of HTTP_AUTH_TOKENS). " +
        "Every error answer is an RFC 9457 problem (`application/problem+json`) with a stable `code`; " +
        "its `type` is a page of this server (`/problems/<kind>`). A POST that adds work may answer 503 " +
        "with `Retry-After`; sending it again is safe (idempotency keys). See docs/http-api.md.",
      license: { name: "MIT", identifier: "MIT" },
    },
    servers: [{ url: "/", description: "The server that serves this document." }],
    security: [{ bearer: [] }],
    tags: [
      { name: "acceptances", description: "Requests about invitations: enqueue, look up, cancel." },
      { name: "work", description: "Work around the queue: discover pending invitations, redrive failures." },
      { name: "status", description: "The deployment at a glance: backlog, rate, workers, faults." },
      { name: "held", description: "Held invitations: decisions waiting for a person." },
      { name: "operations", description: "Probes and metrics, without authentication." },
      { name: "documentation", description: "This document, its page and the problem types." },
      { name: "dashboard", description: "bull-board's read-only view of the queues." },
      {
        name: "outcomes",
        description: "The outcome log read without consuming anything: pages after a cursor, and a resumable stream.",
      },
      {
        name: "webhooks",
        description: "Webhook endpoints: signed deliveries of outcomes and notices (docs/webhooks.md).",
      },
    ],
    paths: {
      "/v1/acceptances": {
        get: {
          tags: ["acceptances"],
          operationId: "listAcceptances",
          summary: "List requests: by state, or an invitation's, a page at a time",
          description:
            "Each item is what `GET /v1/acceptances/{id}` answers for it. `state`: that state of the requests " +
            "queue (waiting, active: oldest first; prioritized, delayed: next due first; failed, completed: most " +
            "recently finished first). `identifier` (and `catalog`): that invitation's requests, oldest first " +
            "(with `state` too, those in it: a page may then hold fewer than `limit`). Neither: every request, " +
            `state by state (${LIST_STATES.join(", ")}). Follow \`next\` until it is null; a page never skips ` +
            "a request that stayed where it was, and one that moved meanwhile may show up twice (dedupe by id).",
          parameters: [
            {
              name: "state",
              in: "query",
              required: false,
              description: "Only requests in this state.",
              schema: { type: "string", enum: [...LIST_STATES] },
            },
            {
              name: "identifier",
              in: "query",
              required: false,
              description: "Only this invitation's requests (in any catalog).",
              schema: { type: "string", pattern: "^pacinv-[A-Za-z0-9]{13}$" },
            },
            {
              name: "catalog",
              in: "query",
              required: false,
              description: "With `identifier`: only its requests of this catalog.",
              schema: { type: "string", pattern: "^[a-zA-Z0-9-]+$", maxLength: 64 },
            },
            {
              name: "cursor",
              in: "query",
              required: false,
              description: "The previous page's `next`, as it was, with the same filters.",
              schema: { type: "string", maxLength: 1024 },
            },
            {
              name: "limit",
              in: "query",
              required: false,
              description: `Items per page, 1-${LIST_LIMIT_MAX}.`,
              schema: { type: "integer", minimum: 1, maximum: LIST_LIMIT_MAX, default: LIST_LIMIT_DEFAULT },
            },
          ],
          responses: {
            "200": { description: "A page.", content: json("AcceptanceList") },
            "400": {
              description:
                "INVALID_REQUEST: a filter, the limit or the cursor breaks its rule (`issues` names the parameter), " +
                "or a cursor of a listing with other filters.",
              content: problemContent(
                problemExample("INVALID_REQUEST", `invalid listing: state: must be one of ${LIST_STATES.join(", ")}`, {
                  issues: [{ field: "state", rule: `must be one of ${LIST_STATES.join(", ")}` }],
                }),
              ),
            },
            ...authenticated,
          },
        },
        post: {
          tags: ["acceptances"],
          operationId: "enqueueAcceptance",
          summary: "Enqueue one acceptance",
          description:
            'Enqueues one request (accept, or reject with `action: "reject"`). Sending the same request ' +
            "again with the same idempotency key is safe: 202 with `duplicate: true` and the first " +
            "submission's job. The key is the body's `idempotencyKey` or the `Idempotency-Key` header " +
            "(draft-ietf-httpapi-idempotency-key-header); default `<catalog>.<identifier>`.",
          parameters: [
            {
              name: "Idempotency-Key",
              in: "header",
              required: false,
              description:
                'The request\'s idempotency key, as an RFC 8941 string (`"order-42"`) or unquoted ' +
                "(`order-42`); the body's `idempotencyKey` rule (1-256 printable ASCII characters, no " +
                "space). When the body has an `idempotencyKey` too, they must be equal. Echoed on the answer.",
              schema: { type: "string" },
            },
          ],
          requestBody: { required: true, content: json("AcceptRequest") },
          responses: {
            "202": {
              description: "Enqueued (or an existing request: `duplicate: true`).",
              headers: {
                Location: {
                  description: "The request's status: `/v1/acceptances/{jobId}`, of the new or the existing request.",
                  schema: { type: "string" },
                },
                "Idempotency-Key": {
                  description: "The request's Idempotency-Key header, as sent (only when it was sent).",
                  schema: { type: "string" },
                },
              },
              content: json("EnqueueResult"),
            },
            ...withBody,
            "422": response("IdempotencyConflict"),
            ...authenticated,
          },
        },
      },
      "/v1/acceptances/batch": {
        post: {
          tags: ["acceptances"],
          operationId: "enqueueAcceptances",
          summary: `Enqueue 1-${maxBatch} acceptances at once`,
          description:
            "All or nothing: one invalid item refuses the whole batch with 400, naming every bad item's " +
            "index, field and rule. Each item carries its own `idempotencyKey` (an `Idempotency-Key` " +
            "header is refused with 400). No `Location`: each result's `jobId` names its request.",
          requestBody: { required: true, content: json("BatchRequest") },
          responses: {
            "202": { description: "Enqueued; `results` in request order.", content: json("BatchResult") },
            ...withBody,
            "422": response("IdempotencyConflict"),
            ...authenticated,
          },
        },
      },
      "/v1/acceptances/{id}": {
        get: {
          tags: ["acceptances"],
          operationId: "getAcceptance",
          summary: "State of one request, and its outcome event once there is one",
          description:
            "Read from the request's job and its outcome (same id). When the job is gone (past " +
            "retention) but the outcome is still there, the state follows the outcome.",
          parameters: [idParameter],
          responses: {
            "200": { description: "Found.", content: json("AcceptanceStatus") },
            "400": response("InvalidRequest"),
            "404": {
              description:
                `NOT_FOUND: neither the request nor its outcome exists (never ` +
                `enqueued, or past retention), or the id cannot be one (${NOT_AN_ID}).`,
              content: problemContent(problemExample("NOT_FOUND", 'no request or outcome with id "AWS.x"')),
            },
            ...authenticated,
          },
        },
      },
      "/v1/acceptances/{id}/cancel": {
        post: {
          tags: ["acceptances"],
          operationId: "cancelAcceptance",
          summary: "Cancel a request that has not started (waiting, delayed, prioritized)",
          description:
            "The request ends with exactly one outcome of type `canceled` (its idempotency " +
            "record completes with it) and its job is removed; nothing is sent to AWS for it. " +
            "Canceling again answers the same outcome. The body is optional.",
          parameters: [idParameter],
          requestBody: { required: false, content: json("CancelRequest") },
          responses: {
            "200": { description: "Canceled: the `canceled` outcome event.", content: json("OutcomeEvent") },
            "400": response("InvalidRequest"),
            "404": {
              description:
                "NOT_FOUND: neither the request nor its outcome exists, " + `or the id cannot be one (${NOT_AN_ID}).`,
              content: problemContent(problemExample("NOT_FOUND", 'no request with id "AWS.x"')),
            },
            "409": {
              description:
                "NOT_CANCELABLE: the request is running or finished; `state` says which (active, completed, failed…).",
              content: problemContent(
                problemExample(
                  "NOT_CANCELABLE",
                  "request AWS.pacinv-ABCDEFGHIJKLM.x is active: only a request that has not started " +
                    "(waiting, delayed, prioritized) can be canceled",
                  { requestId: "AWS.pacinv-ABCDEFGHIJKLM.x", state: "active" },
                ),
              ),
            },
            "501": response("NotConfigured"),
            ...authenticated,
          },
        },
      },
      "/v1/discoveries": {
        post: {
          tags: ["work"],
          operationId: "discover",
          summary: "Discover the pending invitations sent to us and enqueue what the policy decides",
          description:
            "ListConnectionInvitations (RECEIVER, PENDING, every page) through the " +
            "shared rate limit, each invitation decided by the policy (default: hold), " +
            "accepts and rejects enqueued with their default idempotency key " +
            "(a second discovery enqueues nothing twice). Answers when done: " +
            "a discovery takes as long as its paced API calls.",
          requestBody: { required: true, content: json("DiscoveryRequest") },
          responses: {
            "200": { description: "The discovery's summary.", content: json("DiscoverySummary") },
            ...withBody,
            "501": response("NotConfigured"),
            "502": {
              description:
                "AWS_ERROR: a Partner Central call failed for good (after retries " +
                "of throttles and 5xx); `operation`, `awsError`, `reason`, `awsHttpStatus`.",
              content: problemContent(
                problemExample("AWS_ERROR", "ListConnectionInvitations failed: AccessDeniedException", {
                  operation: "ListConnectionInvitations",
                  awsError: "AccessDeniedException",
                  reason: null,
                  awsHttpStatus: 403,
                }),
              ),
            },
            ...authenticated,
          },
        },
      },
      "/v1/redrives": {
        post: {
          tags: ["work"],
          operationId: "redrive",
          summary: "Run again the requests whose outcome was failed",
          description:
            "Each matching failed request becomes a new request (redriveOf, key redrive:<request " +
            "id>, a new ClientToken) that reads the invitation before calling; " +
            "redriving twice redrives once.",
          requestBody: { required: true, content: json("RedriveRequest") },
          responses: {
            "200": { description: "The redrive's summary.", content: json("RedriveSummary") },
            ...withBody,
            "501": response("NotConfigured"),
            ...authenticated,
          },
        },
      },
      "/v1/status": {
        get: {
          tags: ["status"],
          operationId: "status",
          summary: "The deployment at a glance: backlog, oldest waiting, rate, time to drain, workers, faults",
          description:
            "The report `pc-invitations status` prints (docs/operations.md explains each figure). Read-only; " +
            "each figure reads a bounded amount whatever the queue holds.",
          responses: {
            "200": { description: "The report.", content: json("Status") },
            ...authenticated,
          },
        },
      },
      "/v1/held": {
        get: {
          tags: ["held"],
          operationId: "listHeld",
          summary: "List the held invitations, soonest expiry first, a page at a time",
          description:
            "The invitations a discovery policy held (they wait for a person), until one is decided here, " +
            "accepted or rejected elsewhere, canceled or expired. Follow `next` until it is null.",
          parameters: [
            {
              name: "catalog",
              in: "query",
              required: false,
              description: "Only invitations of this catalog.",
              schema: { type: "string" },
            },
            {
              name: "cursor",
              in: "query",
              required: false,
              description: "The previous page's `next`, as it was.",
              schema: { type: "string" },
            },
            {
              name: "limit",
              in: "query",
              required: false,
              description: `Items per page, 1-${HELD_LIST_MAX} (default ${HELD_LIST_DEFAULT}).`,
              schema: { type: "integer", minimum: 1, maximum: HELD_LIST_MAX },
            },
          ],
          responses: {
            "200": { description: "A page.", content: json("HeldList") },
            "400": response("InvalidRequest"),
            "501": response("NotConfigured"),
            ...authenticated,
          },
        },
      },
      "/v1/held/{catalog}/{identifier}/decision": {
        post: {
          tags: ["held"],
          operationId: "decideHeld",
          summary: "Decide on an invitation: accept, or reject with a reason",
          description:
            "Enqueued under the invitation's default idempotency key: two people deciding alike make one request " +
            "(the second gets the first's, `duplicate: true`, and who decided); deciding otherwise is 409 " +
            "DECISION_CONFLICT. An invitation never held is read first and decided only while pending. The " +
            "outcome event carries `decidedBy` (the bearer token's identity) and `heldBy`.",
          parameters: [
            { name: "catalog", in: "path", required: true, description: "e.g. AWS.", schema: { type: "string" } },
            {
              name: "identifier",
              in: "path",
              required: true,
              description: "e.g. pacinv-ABCDEFGHIJKLM.",
              schema: { type: "string" },
            },
          ],
          requestBody: { required: true, content: json("DecisionRequest") },
          responses: {
            "202": { description: "Enqueued (or the first decision's request).", content: json("DecisionResult") },
            ...withBody,
            "404": {
              description: "NOT_FOUND: no such invitation (AWS said so), or names that cannot be one.",
              content: problemContent(problemExample("NOT_FOUND", "no invitation AWS.pacinv-ABCDEFGHIJKLM")),
            },
            "409": {
              description:
                "INVITATION_NOT_PENDING: accepted or rejected elsewhere, canceled or expired (`invitationStatus`); " +
                "DECISION_CONFLICT: decided otherwise already (`existing`).",
              content: problemContent(
                problemExample(
                  "INVITATION_NOT_PENDING",
                  "invitation AWS.pacinv-ABCDEFGHIJKLM is EXPIRED, no longer pending: there is nothing left to decide",
                  { catalog: "AWS", identifier: "pacinv-ABCDEFGHIJKLM", invitationStatus: "EXPIRED" },
                ),
              ),
            },
            "501": response("NotConfigured"),
            "502": {
              description: "AWS_ERROR: reading an invitation never held failed.",
              content: problemContent(
                problemExample("AWS_ERROR", "GetConnectionInvitation failed: AccessDeniedException", {
                  operation: "GetConnectionInvitation",
                  awsError: "AccessDeniedException",
                  reason: null,
                  awsHttpStatus: 403,
                }),
              ),
            },
            ...authenticated,
          },
        },
      },
      "/v1/outcomes": {
        get: {
          tags: ["outcomes"],
          operationId: "listOutcomes",
          summary: "A page of the outcome log after a cursor (outcome events and notices), consuming nothing",
          description:
            "Oldest first, after `after` (a cursor this API gave, or 0 for the start of the log). Follow `next` " +
            "until a page comes back empty. Nothing is acknowledged or removed: any number of readers may page " +
            "the same log. See docs/outcome-stream.md.",
          parameters: outcomeLogParameters(true),
          responses: {
            "200": { description: "A page.", content: json("OutcomeLogPage") },
            "400": {
              description: "INVALID_REQUEST: `after` is not a cursor of this API, or `limit` is out of 1-1000.",
              content: problemContent(
                problemExample("INVALID_REQUEST", "invalid listing: limit: must be a whole number from 1 to 1000", {
                  issues: [{ field: "limit", rule: "must be a whole number from 1 to 1000" }],
                }),
              ),
            },
            ...authenticated,
          },
        },
      },
      "/v1/outcomes/stream": {
        get: {
          tags: ["outcomes"],
          operationId: "streamOutcomes",
          summary: "Server-sent events of the outcome log, resumed from Last-Event-ID",
          description:
            "A `text/event-stream` that stays open: each entry is an event whose `id` is its cursor, `event` its " +
            "type and `data` the outcome event or notice as JSON; a comment every 15 s keeps it alive. Without " +
            "`after` or `Last-Event-ID` it starts from now. A client that reconnects with `Last-Event-ID` gets " +
            "every entry after it (while the log keeps it). Filters as for `GET /v1/outcomes`. Errors are " +
            "answered as problems before the stream starts.",
          parameters: [
            ...outcomeLogParameters(false),
            {
              name: "Last-Event-ID",
              in: "header",
              required: false,
              description: "The `id` of the last event received: the stream resumes after it (`after` wins).",
              schema: { type: "string" },
            },
          ],
          responses: {
            "200": {
              description:
                "The stream: `id: <cursor>`, `event: <type>`, `data: <the event as " +
                "JSON>`, a blank line, for each entry.",
              content: {
                "text/event-stream": {
                  schema: { type: "string" },
                  example:
                    'id: 1765158000000-0\nevent: accepted\ndata: {"schemaVersion":1,"eventId":"…","type":"accepted",…}\n\n',
                },
              },
            },
            "400": {
              description: "INVALID_REQUEST: `after` or `Last-Event-ID` is not a cursor of this API.",
              content: problemContent(
                problemExample(
                  "INVALID_REQUEST",
                  "invalid listing: after: must be a cursor this API gave (<ms>-<seq>) or 0",
                  { issues: [{ field: "after", rule: "must be a cursor this API gave (<ms>-<seq>) or 0" }] },
                ),
              ),
            },
            ...authenticated,
          },
        },
      },
      "/v1/webhooks": {
        get: {
          tags: ["webhooks"],
          operationId: "listWebhooks",
          summary: "Every webhook endpoint (never a secret)",
          description: "Needs the read scope. No answer but a creation's or a rotation's carries a secret.",
          responses: {
            "200": { description: "The endpoints.", content: json("WebhookList") },
            ...authenticated,
          },
        },
        post: {
          tags: ["webhooks"],
          operationId: "addWebhook",
          summary: "Add an endpoint; its signing secret is in this answer only",
          description:
            "Needs the admin scope. Deliveries are signed as Standard Webhooks say (`webhook-id`, " +
            "`webhook-timestamp`, `webhook-signature`). The secret is the one given (`whsec_…`) or a new one, " +
            "shown here once and never again. A private, loopback or link-local destination is refused at " +
            "delivery (on the address connected to) unless WEBHOOK_ALLOW_PRIVATE=true.",
          requestBody: { required: true, content: json("WebhookInput") },
          responses: {
            "201": { description: "Added: the endpoint and its secret.", content: json("WebhookCreated") },
            ...withBody,
            ...authenticated,
          },
        },
      },
      "/v1/webhooks/replay": {
        post: {
          tags: ["webhooks"],
          operationId: "replayWebhooks",
          summary: "Deliver again the logged events since a duration ago, or one event",
          description:
            "Needs the admin scope. One of `since` (a duration: 30m, 2h, 1d) or `eventId`; `endpointId` limits " +
            "it to one endpoint (else every endpoint that matches). Delivered again even when delivered before.",
          requestBody: { required: true, content: json("WebhookReplayRequest") },
          responses: {
            "200": { description: "What was queued.", content: json("WebhookReplayResult") },
            ...withBody,
            ...authenticated,
          },
        },
      },
      "/v1/webhooks/{id}": {
        get: {
          tags: ["webhooks"],
          operationId: "getWebhook",
          summary: "One endpoint (never its secret)",
          description: "Needs the read scope.",
          parameters: [webhookIdParameter],
          responses: {
            "200": { description: "Found.", content: json("WebhookEndpoint") },
            "404": webhookNotFound,
            ...authenticated,
          },
        },
        delete: {
          tags: ["webhooks"],
          operationId: "removeWebhook",
          summary: "Remove an endpoint and what waits for it",
          description: "Needs the admin scope. Deliveries not made yet are dropped with it.",
          parameters: [webhookIdParameter],
          responses: {
            "204": { description: "Removed." },
            "404": webhookNotFound,
            ...authenticated,
          },
        },
      },
      "/v1/webhooks/{id}/disable": {
        post: {
          tags: ["webhooks"],
          operationId: "disableWebhook",
          summary: "Disable an endpoint: deliveries wait for it",
          description: "Needs the admin scope. Its `disabledReason` says an operator disabled it. No body.",
          parameters: [webhookIdParameter],
          responses: {
            "200": { description: "Disabled.", content: json("WebhookEndpoint") },
            "404": webhookNotFound,
            ...authenticated,
          },
        },
      },
      "/v1/webhooks/{id}/enable": {
        post: {
          tags: ["webhooks"],
          operationId: "enableWebhook",
          summary: "Enable an endpoint again: what waited for it is delivered",
          description: "Needs the admin scope. No body.",
          parameters: [webhookIdParameter],
          responses: {
            "200": { description: "Enabled.", content: json("WebhookEndpoint") },
            "404": webhookNotFound,
            ...authenticated,
          },
        },
      },
      "/v1/webhooks/{id}/rotate-secret": {
        post: {
          tags: ["webhooks"],
          operationId: "rotateWebhookSecret",
          summary: "A new signing secret, shown once; the old one still signs for WEBHOOK_SECRET_OVERLAP",
          description:
            "Needs the admin scope. While the old secret overlaps, each delivery carries both signatures " +
            "(`webhook-signature: v1,… v1,…`). No body.",
          parameters: [webhookIdParameter],
          responses: {
            "200": { description: "Rotated: the endpoint and its new secret.", content: json("WebhookCreated") },
            "404": webhookNotFound,
            ...authenticated,
          },
        },
      },
      "/v1/webhooks/{id}/deliveries": {
        get: {
          tags: ["webhooks"],
          operationId: "webhookDeliveries",
          summary: "An endpoint's delivery log: deliveries waiting and its last 100 attempts",
          description:
            "Needs the read scope. Each attempt: event id, attempt number, HTTP status, latency, error, result.",
          parameters: [webhookIdParameter],
          responses: {
            "200": { description: "The log.", content: json("WebhookDeliveries") },
            "404": webhookNotFound,
            ...authenticated,
          },
        },
      },
      "/healthz": {
        get: {
          ...publicOp,
          tags: ["operations"],
          operationId: "health",
          summary: "The process is alive",
          description: "Liveness: 200 while the process runs (503 SHUTTING_DOWN once it is stopping).",
          responses: { "200": { description: "Alive.", content: json("Health") }, ...publicResponses },
        },
      },
      "/readyz": {
        get: {
          ...publicOp,
          tags: ["operations"],
          operationId: "readiness",
          summary: "Redis answers PING, accepts writes (not full), and the requests queue is not paused",
          description:
            "Readiness, for a load balancer: 503 with the same report when a check fails (a report, " +
            "not a problem: `checks` says which), or a SHUTTING_DOWN problem once the server is stopping.",
          responses: {
            "200": { description: "Ready.", content: json("Readiness") },
            "503": {
              description: "Not ready (the report), or SHUTTING_DOWN (a problem).",
              content: { ...json("Readiness"), ...problemContent(shuttingDownExample()) },
            },
            ...anyRoute,
          },
        },
      },
      "/metrics": {
        get: {
          ...publicOp,
          tags: ["operations"],
          operationId: "metrics",
          summary: "Prometheus metrics",
          description:
            "The Prometheus text format (0.0.4): the pci_* metrics of this server and the queues' " +
            "depth, and the Node.js process metrics. Checked by `promtool check metrics` in the tests.",
          responses: {
            "200": text("text/plain", "Prometheus text format."),
            ...publicResponses,
          },
        },
      },
      "/openapi.json": {
        get: {
          ...publicOp,
          tags: ["documentation"],
          operationId: "openapi",
          summary: "This document",
          description: "OpenAPI 3.1, generated from the schemas the server checks, with its own HTTP_MAX_BATCH.",
          responses: {
            "200": { description: "OpenAPI 3.1.", content: { "application/json": { schema: { type: "object" } } } },
            ...publicResponses,
          },
        },
      },
      "/docs": {
        get: {
          ...publicOp,
          tags: ["documentation"],
          operationId: "documentationPage",
          summary: "This document as a page (Swagger UI, served with all its assets by this server)",
          description:
            "Public, like the document. Trying a /v1 operation asks for a bearer token (Authorize), kept " +
            "in the page only and sent to this server only (`Content-Security-Policy: default-src 'self'`).",
          responses: { "200": text("text/html", "HTML."), ...publicResponses },
        },
      },
      "/problems/{kind}": {
        get: {
          ...publicOp,
          tags: ["documentation"],
          operationId: "problemType",
          summary: "The documentation of a problem type (what an error's `type` names)",
          description: "One page per kind (`/problems/idempotency-conflict`); `/problems` lists them.",
          parameters: [
            {
              name: "kind",
              in: "path",
              required: true,
              description: "The kind, as in `type`.",
              schema: { type: "string", enum: ERROR_CODES.map(problemSlug) },
            },
          ],
          responses: {
            "200": text("text/html", "HTML."),
            "404": response("NotFound"),
            ...publicResponses,
          },
        },
      },
      "/admin/queues": {
        get: {
          tags: ["dashboard"],
          operationId: "dashboard",
          summary:
            "bull-board dashboard of both queues (read-only), for HTTP_ADMIN_TOKENS only: no ingest token " +
            "opens it; not served without admin tokens or with HTTP_DASHBOARD=false",
          security: [{ admin: [] }],
          description:
            "A browser does not send the bearer token by itself: reach it through a proxy that adds the " +
            "header. Its own API's errors are problems of type `about:blank`.",
          responses: {
            "200": text("text/html", "HTML."),
            "404": response("NotFound"),
            ...authenticated,
          },
        },
      },
    },
    components: {
      securitySchemes: {
        bearer: { type: "http", scheme: "bearer", description: "One of the tokens in HTTP_AUTH_TOKENS." },
        admin: {
          type: "http",
          scheme: "bearer",
          description: "One of the tokens in HTTP_ADMIN_TOKENS (the dashboard only).",
        },
      },
      responses: {
        InvalidRequest: {
          description:
            "INVALID_REQUEST: malformed JSON, fields breaking the body's schema, an invalid Idempotency-Key " +
            "header, or a malformed URL; `issues` names each field and rule (and the item's `index` in a batch).",
          content: problemContent(
            problemExample("INVALID_REQUEST", "invalid request: identifier: must match ^pacinv-[A-Za-z0-9]{13}$", {
              issues: [{ field: "identifier", rule: "must match ^pacinv-[A-Za-z0-9]{13}$" }],
            }),
          ),
        },
        Unauthorized: {
          description: "UNAUTHORIZED: no or wrong bearer token.",
          headers: {
            "WWW-Authenticate": {
              description:
                'The challenge: `Bearer realm="pc-invitations"` (with `error="invalid_token"` for a wrong one).',
              schema: { type: "string" },
            },
          },
          content: problemContent(unauthorized(false).body),
        },
        Forbidden: {
          description:
            "FORBIDDEN: a valid token without the scope this operation needs (a named token's scopes: " +
            "enqueue, read, decide, control, admin).",
          headers: {
            "WWW-Authenticate": {
              description: 'The challenge: `Bearer realm="pc-invitations", error="insufficient_scope", scope="…"`.',
              schema: { type: "string" },
            },
          },
          content: problemContent(
            problemExample("FORBIDDEN", 'the token "dash-reader" lacks the scope this needs: enqueue'),
          ),
        },
        NotFound: {
          description: "NOT_FOUND: no such route or resource.",
          content: problemContent(problemExample("NOT_FOUND", "no route GET /v1/nowhere")),
        },
        PayloadTooLarge: {
          description: "PAYLOAD_TOO_LARGE: body over HTTP_BODY_LIMIT_BYTES.",
          content: problemContent(
            problemExample("PAYLOAD_TOO_LARGE", "request body is larger than HTTP_BODY_LIMIT_BYTES"),
          ),
        },
        UnsupportedMediaType: {
          description: "UNSUPPORTED_MEDIA_TYPE: Content-Type is not application/json.",
          content: problemContent(UNSUPPORTED_MEDIA_TYPE.body),
        },
        IdempotencyConflict: {
          description:
            "IDEMPOTENCY_CONFLICT: the idempotency key was used before with a different payload; nothing " +
            "enqueued (422, as draft-ietf-httpapi-idempotency-key-header says; 409 before 1.1.0).",
          content: problemContent(
            problemExample(
              "IDEMPOTENCY_CONFLICT",
              'idempotency key "order-42" was already used with a different payload (differs in: identifier); ' +
                "nothing enqueued",
              {
                idempotencyKey: "order-42",
                differences: ["identifier"],
                existingJobId: "AWS.pacinv-ABCDEFGHIJKLM.mwx2si8vfae35d",
              },
            ),
          ),
        },
        NotConfigured: {
          description: "NOT_CONFIGURED: the server was built without this feature (pc-invitations serve has it).",
          content: problemContent(
            problemExample(
              "NOT_CONFIGURED",
              "this server was built without redrives (buildHttpServer's deps); pc-invitations serve has them",
            ),
          ),
        },
        Unavailable: {
          description:
            "BACKLOG_FULL (requests queue backlog over HTTP_MAX_BACKLOG), REDIS_UNAVAILABLE, REDIS_FULL (Redis " +
            "refuses writes; nothing was enqueued) or SHUTTING_DOWN. Retry after `Retry-After` seconds.",
          headers: retryAfterHeader(),
          content: problemContent(
            problemExample("BACKLOG_FULL", "the requests queue backlog is over HTTP_MAX_BACKLOG (100000); retry later"),
          ),
        },
        ShuttingDown: {
          description: "SHUTTING_DOWN: the server is stopping. Retry after `Retry-After` seconds.",
          headers: retryAfterHeader(),
          content: problemContent(shuttingDownExample()),
        },
        ClientError: {
          description:
            "Answered before any route runs: REQUEST_TIMEOUT (408: headers or body too slow), HEADERS_TOO_LARGE " +
            "(431), or INVALID_REQUEST (400) for a malformed HTTP request (`issues` names the part). These " +
            "have no `instance`.",
          content: problemContent(
            problemExample(
              "REQUEST_TIMEOUT",
              "the request (headers and body) did not arrive in time " +
                "(HTTP_HEADERS_TIMEOUT_MS / HTTP_REQUEST_TIMEOUT_MS)",
            ),
          ),
        },
        ServerError: {
          description: "INTERNAL (500): a bug, logged with the request id; the answer says nothing more.",
          content: problemContent(INTERNAL.body),
        },
      },
      schemas: { ...schemas, ...webhookSchemas() },
    },
  };
}

/** The query parameters of GET /v1/outcomes (with `limit`) and of its stream. */
function outcomeLogParameters(paged: boolean): Json[] {
  return [
    {
      name: "after",
      in: "query",
      required: false,
      description: "A cursor this API gave (`<ms>-<seq>`: an item's `cursor`, a page's `next`, an SSE `id`), or 0.",
      schema: { type: "string", pattern: "^\\d{1,20}(-\\d{1,20})?$" },
    },
    ...(paged
      ? [
          {
            name: "limit",
            in: "query",
            required: false,
            description: "Entries per page, 1-1000.",
            schema: { type: "integer", minimum: 1, maximum: 1000, default: 100 },
          },
        ]
      : []),
    {
      name: "type",
      in: "query",
      required: false,
      description: "Only these event types (repeat the parameter, or separate with commas).",
      schema: { type: "array", items: { type: "string" } },
      style: "form",
      explode: true,
    },
    {
      name: "catalog",
      in: "query",
      required: false,
      description: "Only events of this catalog.",
      schema: { type: "string" },
    },
  ];
}

/** The webhook and outcome-log answers' schemas (the shapes of src/store/webhook-store.ts and outcome-log.ts). */
function webhookSchemas(): Record<string, Json> {
  const nullable = (type: string, description: string) => ({ type: [type, "null"], description });
  const endpoint = {
    type: "object",
    required: ["id", "url", "events", "catalog", "format", "rateLimit", "enabled", "createdAt", "activeSecrets"],
    properties: {
      id: { type: "string" },
      url: { type: "string", format: "uri" },
      events: { type: "array", items: { type: "string" }, description: "Event types it receives; empty: every type." },
      catalog: nullable("string", "Only events of this catalog; null: any."),
      format: { type: "string", enum: ["standard", "cloudevents"] },
      rateLimit: { type: "integer", minimum: 0, description: "Deliveries per second at most (0: no limit)." },
      enabled: { type: "boolean" },
      disabledReason: nullable("string", "Why it was disabled (by whom, a 410, failing since when)."),
      disabledAt: nullable("string", "When it was disabled (ISO-8601)."),
      createdAt: { type: "string" },
      failingSince: nullable("string", "The first failure since the last success, if it is failing."),
      lastSuccessAt: nullable("string", "The last delivery answered 2xx."),
      activeSecrets: { type: "integer", description: "How many secrets sign its deliveries now (2 while rotating)." },
    },
  };
  return {
    WebhookInput: {
      type: "object",
      additionalProperties: false,
      required: ["url"],
      properties: {
        url: { type: "string", format: "uri", description: "http(s), without credentials." },
        events: {
          type: "array",
          maxItems: 20,
          items: { type: "string", enum: [...WEBHOOK_EVENT_TYPES] },
          default: [],
          description: "Event types to receive; empty: every type.",
        },
        catalog: { type: ["string", "null"], minLength: 1, maxLength: 64, default: null },
        secret: {
          type: "string",
          description: "A signing secret (`whsec_` and base64 of 24-64 bytes); default: a new one.",
        },
        format: { type: "string", enum: ["standard", "cloudevents"], default: "standard" },
        rateLimit: { type: "integer", minimum: 0, maximum: 100000, description: "Default: WEBHOOK_RATE_LIMIT." },
      },
    },
    WebhookEndpoint: endpoint,
    WebhookCreated: {
      ...endpoint,
      required: [...endpoint.required, "secret"],
      properties: {
        ...endpoint.properties,
        secret: { type: "string", description: "The signing secret (`whsec_…`): shown in this answer only." },
      },
    },
    WebhookList: {
      type: "object",
      required: ["items"],
      properties: { items: { type: "array", items: { $ref: "#/components/schemas/WebhookEndpoint" } } },
    },
    WebhookReplayRequest: {
      type: "object",
      properties: {
        since: { type: "string", description: "A duration (30m, 2h, 1d): the events logged since then." },
        eventId: { type: "string", description: "Or one event, by its id." },
        endpointId: { type: "string", description: "Only this endpoint (default: every one that matches)." },
      },
    },
    WebhookReplayResult: {
      type: "object",
      required: ["events", "queued"],
      properties: {
        events: { type: "integer", description: "Events found in the log." },
        queued: { type: "integer", description: "Deliveries queued (events × matching endpoints)." },
      },
    },
    WebhookDeliveries: {
      type: "object",
      required: ["pending", "attempts"],
      properties: {
        pending: { type: "integer", description: "Deliveries waiting (queued or retrying)." },
        attempts: {
          type: "array",
          items: {
            type: "object",
            required: ["eventId", "attempt", "status", "latencyMs", "error", "at", "result"],
            properties: {
              eventId: { type: "string" },
              attempt: { type: "integer", minimum: 1 },
              status: nullable("integer", "HTTP status, or null when there was no answer."),
              latencyMs: { type: "number" },
              error: nullable("string", "Why it failed, or null."),
              at: { type: "string" },
              result: { type: "string", enum: ["delivered", "retry", "failed", "gone"] },
            },
          },
        },
      },
    },
    OutcomeLogPage: {
      type: "object",
      required: ["items", "next"],
      properties: {
        items: {
          type: "array",
          items: {
            type: "object",
            required: ["cursor", "kind", "event"],
            properties: {
              cursor: { type: "string", description: "Its position (`<ms>-<seq>`)." },
              kind: { type: "string", enum: ["outcome", "notice"] },
              event: { type: "object", description: "The outcome event (OutcomeEvent) or the notice." },
            },
          },
        },
        next: { type: "string", description: "The cursor to ask for the next page with (`after`)." },
      },
    },
  };
}

function retryAfterHeader(): Json {
  return { "Retry-After": { description: "Seconds to wait before retrying.", schema: { type: "integer" } } };
}

/** A problem's media type entry, with an example built by the code that builds the answers. */
function problemContent(example: ProblemBody): Json {
  return { [PROBLEM_JSON]: { schema: ref("Problem"), example } };
}

function problemExample(code: ErrorCode, detail: string, extensions: Record<string, unknown> = {}): ProblemBody {
  return problem(code, detail, extensions).body;
}

function shuttingDownExample(): ProblemBody {
  return problemExample("SHUTTING_DOWN", "the server is shutting down; retry (another instance)");
}

function ref(name: string): Json {
  return { $ref: `#/components/schemas/${name}` };
}

/**
 * JSON Schema of each named zod schema, as OpenAPI components. Each named schema is emitted once
 * and referenced elsewhere; zod's `$defs` (e.g. the recursive JSON value of `metadata`) are hoisted
 * to components too, because inside an OpenAPI document `#/$defs/...` would point at its root.
 */
function componentSchemas(entries: Array<[string, z.ZodType, "input" | "output"]>): Record<string, Json> {
  // Named schemas get an id (so zod emits them once, as refs); everything else keeps the metadata
  // of the global registry, where .describe() puts descriptions.
  const ids = new Map<unknown, string>(entries.map(([id, schema]) => [schema, id]));
  const registry = z.registry<Record<string, unknown>>();
  registry.get = (schema) => {
    const id = ids.get(schema);
    const meta = z.globalRegistry.get(schema);
    return id === undefined ? meta : { ...meta, id };
  };
  const out: Record<string, Json> = {};
  const anonymous = new Map<string, string>(); // content → component name
  for (const [id, schema, io] of entries) {
    const { $defs = {}, ...root } = z.toJSONSchema(schema, {
      metadata: registry,
      io,
      unrepresentable: "any",
    }) as Json & { $defs?: Record<string, Json> };
    const names = new Map<string, string>();
    for (const [key, def] of Object.entries($defs)) {
      if (!key.startsWith("__")) {
        names.set(key, key);
        continue;
      }
      const content = JSON.stringify(def);
      const name = anonymous.get(content) ?? (isJsonValue(def) ? "JsonValue" : `Shared${anonymous.size}`);
      anonymous.set(content, name);
      names.set(key, name);
    }
    const rewrite = (v: unknown) => rewriteRefs(v, names);
    for (const [key, def] of Object.entries($defs)) put(out, names.get(key)!, rewrite(def) as Json);
    // A named root comes back as { $ref: "#/$defs/<id>" } with its body in $defs.
    if (root.$ref === undefined) put(out, id, rewrite(withoutDialect(root)) as Json);
  }
  return Object.fromEntries(
    Object.keys(out)
      .sort()
      .map((k) => [k, out[k]!]),
  );
}

function put(out: Record<string, Json>, name: string, schema: Json): void {
  const existing = out[name];
  if (existing && JSON.stringify(existing) !== JSON.stringify(schema)) {
    throw new Error(`OpenAPI component ${name} has two different JSON Schemas (input vs output mode?)`);
  }
  out[name] = schema;
}

function withoutDialect(schema: Json): Json {
  const { $schema: _dialect, ...rest } = schema;
  return rest;
}

function rewriteRefs(value: unknown, names: Map<string, string>): unknown {
  if (Array.isArray(value)) return value.map((v) => rewriteRefs(v, names));
  if (value === null || typeof value !== "object") return value;
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => {
      if (k === "$ref" && typeof v === "string" && v.startsWith("#/$defs/")) {
        const key = v.slice("#/$defs/".length);
        return [k, `#/components/schemas/${names.get(key) ?? key}`];
      }
      return [k, rewriteRefs(v, names)];
    }),
  );
}

/** zod's z.json(): a union of every JSON type. */
function isJsonValue(def: Json): boolean {
  const types = Array.isArray(def.anyOf) ? (def.anyOf as Json[]).map((b) => b.type) : [];
  return ["string", "number", "boolean", "null", "array", "object"].every((t) => types.includes(t));
}
