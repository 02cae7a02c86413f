import { z } from "zod";
import { acceptRequestSchema } from "../contracts/request.js";
import { outcomeEventSchema } from "../contracts/outcome.js";
import { discoveryRequestSchema } from "../schemas/policy.js";
import {
  acceptanceStatusSchema,
  batchRequestSchema,
  batchResultSchema,
  cancelBodySchema,
  discoverySummarySchema,
  enqueueResultSchema,
  errorBodySchema,
  healthSchema,
  readinessSchema,
  redriveBodySchema,
  redriveSummarySchema,
} from "./http-schemas.js";
import { MAX_REQUEST_ID_LENGTH } from "../schemas/request-id.js";

/** HTTP_MAX_BATCH's default: the committed openapi.json is generated with it. */
export const DEFAULT_MAX_BATCH = 500;

type Json = Record<string, unknown>;

/** What cannot be a request id, and is answered 404 without a look-up. */
const NOT_AN_ID = `not \`<catalog>.<…>\`, a \`:\` in it, or over ${MAX_REQUEST_ID_LENGTH} characters; never looked up`;

/**
 * OpenAPI 3.1 document of the HTTP API, generated from the zod schemas (so it cannot disagree with
 * what the server checks). The committed openapi.json is this with the default HTTP_MAX_BATCH; a
 * test fails when they drift (`npm run openapi:export` rewrites it). The server serves it with its
 * own HTTP_MAX_BATCH.
 */
export function buildOpenApiDocument(options: { maxBatch?: number } = {}): Json {
  const maxBatch = options.maxBatch ?? DEFAULT_MAX_BATCH;
  const schemas = componentSchemas([
    ["AcceptRequest", acceptRequestSchema, "input"],
    ["BatchRequest", batchRequestSchema(maxBatch), "input"],
    ["EnqueueResult", enqueueResultSchema, "output"],
    ["BatchResult", batchResultSchema, "output"],
    ["AcceptanceStatus", acceptanceStatusSchema, "output"],
    ["OutcomeEvent", outcomeEventSchema, "output"],
    ["DiscoveryRequest", discoveryRequestSchema, "input"],
    ["DiscoverySummary", discoverySummarySchema, "output"],
    ["CancelRequest", cancelBodySchema, "input"],
    ["RedriveRequest", redriveBodySchema, "input"],
    ["RedriveSummary", redriveSummarySchema, "output"],
    ["Error", errorBodySchema, "output"],
    ["Health", healthSchema, "output"],
    ["Readiness", readinessSchema, "output"],
  ]);
  const json = (name: string) => ({ "application/json": { schema: ref(name) } });
  const error = (description: string) => ({ description, content: json("Error") });
  const retryAfter = {
    "Retry-After": { description: "Seconds to wait before retrying.", schema: { type: "integer" } },
  };
  const commonErrors = {
    "401": { $ref: "#/components/responses/Unauthorized" },
    "503": { $ref: "#/components/responses/Unavailable" },
  };
  const postErrors = {
    "400": error(
      "INVALID_REQUEST: malformed JSON, or fields breaking the request schema (`issues` names each field and rule).",
    ),
    ...commonErrors,
    "409": error(
      "IDEMPOTENCY_CONFLICT: the idempotency key was used before with a different payload; nothing enqueued.",
    ),
    "413": error("PAYLOAD_TOO_LARGE: body over HTTP_BODY_LIMIT_BYTES."),
    "415": error("UNSUPPORTED_MEDIA_TYPE: Content-Type is not application/json."),
  };
  const notConfigured = {
    "501": error("NOT_CONFIGURED: the server was built without this feature (pc-invitations serve has it)."),
  };
  const workPostErrors = {
    "400": error(
      "INVALID_REQUEST: malformed JSON, or fields breaking the body's schema (`issues` names each field and rule).",
    ),
    ...commonErrors,
    "413": error("PAYLOAD_TOO_LARGE: body over HTTP_BODY_LIMIT_BYTES."),
    "415": error("UNSUPPORTED_MEDIA_TYPE: Content-Type is not application/json."),
    ...notConfigured,
  };
  const publicOp = { security: [] };

  return {
    openapi: "3.1.0",
    info: {
      title: "pc-invitations HTTP API",
      version: "1.0.0",
      description:
        "Enqueue AWS Partner Central connection-invitation acceptances and read their outcomes. " +
        "Every /v1 and /admin route needs `Authorization: Bearer <token>` (HTTP_AUTH_TOKENS). See docs/http-api.md.",
    },
    security: [{ bearer: [] }],
    paths: {
      "/v1/acceptances": {
        post: {
          operationId: "enqueueAcceptance",
          summary: "Enqueue one acceptance",
          requestBody: { required: true, content: json("AcceptRequest") },
          responses: {
            "202": {
              description: "Enqueued (or an existing request: `duplicate: true`).",
              content: json("EnqueueResult"),
            },
            ...postErrors,
          },
        },
      },
      "/v1/acceptances/batch": {
        post: {
          operationId: "enqueueAcceptances",
          summary: `Enqueue 1-${maxBatch} acceptances at once`,
          description:
            "All or nothing: one invalid item refuses the whole batch " +
            "with 400, naming every bad item's index, field and rule.",
          requestBody: { required: true, content: json("BatchRequest") },
          responses: {
            "202": { description: "Enqueued; `results` in request order.", content: json("BatchResult") },
            ...postErrors,
          },
        },
      },
      "/v1/acceptances/{id}": {
        get: {
          operationId: "getAcceptance",
          summary: "State of one request, and its outcome event once there is one",
          parameters: [
            {
              name: "id",
              in: "path",
              required: true,
              description: "`jobId` returned by the POST.",
              schema: { type: "string" },
            },
          ],
          responses: {
            "200": { description: "Found.", content: json("AcceptanceStatus") },
            "400": error("INVALID_REQUEST: the id in the URL is not validly percent-encoded."),
            ...commonErrors,
            "404": error(
              `NOT_FOUND: neither the request nor its outcome exists (never ` +
                `enqueued, or past retention), or the id cannot be one (${NOT_AN_ID}).`,
            ),
          },
        },
      },
      "/v1/acceptances/{id}/cancel": {
        post: {
          operationId: "cancelAcceptance",
          summary: "Cancel a request that has not started (waiting, delayed, prioritized)",
          description:
            "The request ends with exactly one outcome of type `canceled` (its idempotency " +
            "record completes with it) and its job is removed; nothing is sent to AWS for it. " +
            "Canceling again answers the same outcome. The body is optional.",
          parameters: [
            {
              name: "id",
              in: "path",
              required: true,
              description: "`jobId` returned by the POST.",
              schema: { type: "string" },
            },
          ],
          requestBody: { required: false, content: json("CancelRequest") },
          responses: {
            "200": { description: "Canceled: the `canceled` outcome event.", content: json("OutcomeEvent") },
            "400": error("INVALID_REQUEST: a body breaking the cancel schema."),
            ...commonErrors,
            "404": error(
              `NOT_FOUND: neither the request nor its outcome exists, or the id cannot be one (${NOT_AN_ID}).`,
            ),
            "409": error(
              "NOT_CANCELABLE: the request is running or finished; `state` says which (active, completed, failed…).",
            ),
            ...notConfigured,
          },
        },
      },
      "/v1/discoveries": {
        post: {
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
            ...workPostErrors,
            "502": error(
              "AWS_ERROR: a Partner Central call failed for good (after retries " +
                "of throttles and 5xx); `operation`, `awsError`, `reason`.",
            ),
          },
        },
      },
      "/v1/redrives": {
        post: {
          operationId: "redrive",
          summary: "Run again the requests whose outcome was failed",
          description:
            "Each matching failed request becomes a new request (redriveOf, key redrive:<request " +
            "id>, a new ClientToken) that reads the invitation before calling; " +
            "redriving twice redrives once.",
          requestBody: { required: true, content: json("RedriveRequest") },
          responses: {
            "200": { description: "The redrive's summary.", content: json("RedriveSummary") },
            ...workPostErrors,
          },
        },
      },
      "/healthz": {
        get: {
          ...publicOp,
          operationId: "health",
          summary: "The process is alive",
          responses: { "200": { description: "Always.", content: json("Health") } },
        },
      },
      "/readyz": {
        get: {
          ...publicOp,
          operationId: "readiness",
          summary: "Redis answers PING, accepts writes (not full), and the requests queue is not paused",
          responses: {
            "200": { description: "Ready.", content: json("Readiness") },
            "503": { description: "Not ready.", content: json("Readiness") },
          },
        },
      },
      "/metrics": {
        get: {
          ...publicOp,
          operationId: "metrics",
          summary: "Prometheus metrics",
          responses: {
            "200": {
              description: "Prometheus text format.",
              content: { "text/plain": { schema: { type: "string" } } },
            },
          },
        },
      },
      "/openapi.json": {
        get: {
          ...publicOp,
          operationId: "openapi",
          summary: "This document",
          responses: {
            "200": { description: "OpenAPI 3.1.", content: { "application/json": { schema: { type: "object" } } } },
          },
        },
      },
      "/admin/queues": {
        get: {
          operationId: "dashboard",
          summary:
            "bull-board dashboard of both queues (read-only), for HTTP_ADMIN_TOKENS only: no ingest token " +
            "opens it; not served without admin tokens or with HTTP_DASHBOARD=false",
          security: [{ admin: [] }],
          responses: {
            "200": { description: "HTML.", content: { "text/html": { schema: { type: "string" } } } },
            "401": { $ref: "#/components/responses/Unauthorized" },
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
        Unauthorized: { description: "UNAUTHORIZED: no or wrong bearer token.", content: json("Error") },
        Unavailable: {
          description:
            "BACKLOG_FULL (requests queue backlog over HTTP_MAX_BACKLOG), REDIS_UNAVAILABLE, REDIS_FULL (Redis " +
            "refuses writes; nothing was enqueued) or SHUTTING_DOWN. Retry after `Retry-After` seconds.",
          headers: retryAfter,
          content: json("Error"),
        },
      },
      schemas,
    },
  };
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
