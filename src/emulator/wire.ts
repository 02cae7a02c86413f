/**
 * awsJson1_0 response encoding.
 *
 * Guarantees (see the API reference §3 and §5.5):
 * - every response carries `Content-Type: application/x-amz-json-1.0` and an
 *   `x-amzn-RequestId` (which the SDK exposes as `$metadata.requestId`);
 * - Node's own, correct `Date` header is kept, so the SDK never detects clock
 *   skew and never turns a client error into a retryable one (unless the
 *   `clockOffsetMs` switch moves the emulator's clock on purpose);
 * - modelled error bodies always carry a namespaced `__type` plus `Message`,
 *   and only the members the model defines for that error (`Reason`,
 *   `ErrorDetails`, `ServiceCode`/`QuotaCode`); no top-level `code` key.
 * This is the canonical form; answer-style.ts applies the switches that
 * respell or strip it.
 */
import type { ServerResponse } from "node:http";

export const JSON_CONTENT_TYPE = "application/x-amz-json-1.0";
export const ERROR_NAMESPACE = "com.amazonaws.partnercentralaccount";

/** HTTP status of each modelled error (`@httpError`). ServiceQuotaExceeded is 402, not 400/429. */
export const ERROR_STATUS = {
  AccessDeniedException: 403,
  ConflictException: 409,
  InternalServerException: 500,
  ResourceNotFoundException: 404,
  ServiceQuotaExceededException: 402,
  ThrottlingException: 429,
  ValidationException: 400,
} as const;

export type ModeledErrorName = keyof typeof ERROR_STATUS;

/** Reason used when a caller (a script, usually) does not give one. */
export const DEFAULT_REASONS: Partial<Record<ModeledErrorName, string>> = {
  AccessDeniedException: "ACCESS_DENIED",
  ConflictException: "INCOMPATIBLE_CONNECTION_INVITATION_STATE",
  ResourceNotFoundException: "CONNECTION_INVITATION_NOT_FOUND",
  ServiceQuotaExceededException: "LIMIT_EXCEEDED_NUMBER_OF_ACTIVE_CONNECTION",
  ValidationException: "REQUEST_VALIDATION_FAILED",
};

export function isModeledErrorName(name: string): name is ModeledErrorName {
  return Object.hasOwn(ERROR_STATUS, name);
}

/** One member of the `ValidationError` union (the `FieldValidationError` variant). */
export interface FieldValidationError {
  Name: string;
  Message: string;
  Code:
    | "REQUIRED_FIELD_MISSING"
    | "INVALID_STRING_FORMAT"
    | "INVALID_ENUM_VALUE"
    | "INVALID_VALUE"
    | "TOO_MANY_VALUES"
    | "DUPLICATE_VALUE";
}

/** A fully decided answer, independent of the socket it will be written to. */
export interface ApiResponse {
  status: number;
  /** JSON body; undefined means an empty body (used for the scripted 503). */
  body: Record<string, unknown> | undefined;
  headers?: Record<string, string>;
  /** Short error name for the call log. */
  errorType?: string;
  /** Namespace of `errorType`, for errors whose type the wire switches may respell (answer-style.ts). */
  errorNamespace?: string;
  reason?: string;
}

export interface ErrorOptions {
  reason?: string;
  errorDetails?: Array<{ FieldValidationError: FieldValidationError }>;
  serviceCode?: string;
  quotaCode?: string;
  retryAfterSeconds?: number;
}

/** Builds a modelled error with exactly the members its shape defines. */
export function errorResponse(name: ModeledErrorName, message: string, opts: ErrorOptions = {}): ApiResponse {
  const body: Record<string, unknown> = { __type: `${ERROR_NAMESPACE}#${name}`, Message: message };
  let reason: string | undefined;
  if (name === "ThrottlingException") {
    body.ServiceCode = opts.serviceCode ?? "partnercentral-account";
    body.QuotaCode = opts.quotaCode ?? "emulator-request-rate";
  } else if (name !== "InternalServerException") {
    reason = opts.reason ?? DEFAULT_REASONS[name];
    body.Reason = reason;
    if (name === "ValidationException" && opts.errorDetails) body.ErrorDetails = opts.errorDetails;
  }
  const headers: Record<string, string> = {};
  if (opts.retryAfterSeconds !== undefined) headers["Retry-After"] = String(opts.retryAfterSeconds);
  return {
    status: ERROR_STATUS[name],
    body,
    headers,
    errorType: name,
    errorNamespace: ERROR_NAMESPACE,
    ...(reason ? { reason } : {}),
  };
}

/** Namespace of the errors AWS's front door (authentication) answers before any service code runs. */
export const FRONT_DOOR_NAMESPACE = "com.amazon.coral.service";

/**
 * An error of AWS's front door, not in the service model: the SDK surfaces it
 * as a `PartnerCentralAccountServiceException` named after the type. Coral
 * writes these with a lower-case `message`.
 */
export function frontDoorError(name: string, message: string, status: number): ApiResponse {
  return {
    status,
    body: { __type: `${FRONT_DOOR_NAMESPACE}#${name}`, message },
    errorType: name,
    errorNamespace: FRONT_DOOR_NAMESPACE,
  };
}

/** Protocol-level errors (not in the service model) use a bare `__type`, like real awsJson services. */
export function protocolError(
  type: "UnknownOperationException" | "SerializationException",
  message: string,
): ApiResponse {
  return { status: 400, body: { __type: type, Message: message }, errorType: type };
}

export function ok(body: Record<string, unknown>): ApiResponse {
  return { status: 200, body };
}

/** Thrown by operation handlers to abort with a ready-made error response. */
export class ApiError extends Error {
  constructor(readonly response: ApiResponse) {
    super(String(response.body?.Message ?? response.errorType ?? "error"));
    this.name = "ApiError";
  }
}

export function fail(name: ModeledErrorName, message: string, opts?: ErrorOptions): never {
  throw new ApiError(errorResponse(name, message, opts));
}

/** Writes a decided response. The `Date` header is left to Node unless the answer sets one (clockOffsetMs). */
export function writeResponse(res: ServerResponse, response: ApiResponse, requestId: string): void {
  const payload = response.body === undefined ? "" : JSON.stringify(response.body);
  res.statusCode = response.status;
  res.setHeader("Content-Type", JSON_CONTENT_TYPE);
  res.setHeader("x-amzn-RequestId", requestId);
  res.setHeader("Content-Length", Buffer.byteLength(payload));
  for (const [k, v] of Object.entries(response.headers ?? {})) res.setHeader(k, v);
  res.end(payload);
}

/** Plain JSON for the control plane (not the service protocol). */
export function writeControlJson(res: ServerResponse, status: number, body: unknown): void {
  const payload = JSON.stringify(body);
  res.statusCode = status;
  res.setHeader("Content-Type", "application/json");
  res.setHeader("Content-Length", Buffer.byteLength(payload));
  res.end(payload);
}
