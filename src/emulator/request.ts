/**
 * Reading an API request: the body (bounded), the operation named by
 * `X-Amz-Target`, the JSON input and the headers the signature checks need.
 * Protocol problems become a ready answer in `early` (400
 * UnknownOperationException / SerializationException) instead of throwing,
 * so the call is still recorded and still passes the signature checks first.
 */
import type { IncomingMessage } from "node:http";
import type { SignatureHeaders } from "./signature.js";
import { isOperationName, type OperationName } from "./operations.js";
import { protocolError, type ApiResponse } from "./wire.js";

export const TARGET_PREFIX = "PartnerCentralAccount.";
const MAX_BODY_BYTES = 1024 * 1024;

export function readBody(req: IncomingMessage): Promise<{ text: string; tooLarge: boolean }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY_BYTES) chunks.push(c);
    });
    req.on("end", () => resolve({ text: Buffer.concat(chunks).toString("utf8"), tooLarge: size > MAX_BODY_BYTES }));
    req.on("error", reject);
  });
}

const asString = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);

export interface ApiRequest {
  /** Operation name without the `PartnerCentralAccount.` prefix (raw target if it had no such prefix). */
  operation: string;
  /** Set when the operation is one the emulator implements. */
  op?: OperationName;
  /** Parsed JSON body ({} if it could not be parsed). */
  input: Record<string, unknown>;
  identifier?: string;
  catalog?: string;
  clientToken?: string;
  signature: SignatureHeaders;
  /** The answer when the request cannot reach an operation. */
  early?: ApiResponse;
}

export function readApiRequest(req: IncomingMessage, text: string, tooLarge: boolean): ApiRequest {
  const target = asString(req.headers["x-amz-target"]) ?? "";
  const operation = target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : target;

  let input: Record<string, unknown> = {};
  let early: ApiResponse | undefined;
  try {
    const parsed: unknown = tooLarge ? undefined : text.trim() === "" ? {} : JSON.parse(text);
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
      early = protocolError(
        "SerializationException",
        tooLarge ? "Request body too large" : "Body must be a JSON object",
      );
    } else {
      input = parsed as Record<string, unknown>;
    }
  } catch (err) {
    early = protocolError("SerializationException", `Malformed JSON body: ${(err as Error).message}`);
  }
  const op = target.startsWith(TARGET_PREFIX) && isOperationName(operation) ? operation : undefined;
  if (op === undefined) {
    early = protocolError("UnknownOperationException", `Unknown operation: ${target || "(no X-Amz-Target)"}`);
  }

  const out: ApiRequest = {
    operation,
    input,
    signature: {
      authorization: asString(req.headers.authorization),
      amzDate: asString(req.headers["x-amz-date"]),
      securityToken: asString(req.headers["x-amz-security-token"]),
    },
  };
  if (op !== undefined) out.op = op;
  if (early !== undefined) out.early = early;
  const identifier = asString(input.Identifier);
  const catalog = asString(input.Catalog);
  const clientToken = asString(input.ClientToken);
  if (identifier !== undefined) out.identifier = identifier;
  if (catalog !== undefined) out.catalog = catalog;
  if (clientToken !== undefined) out.clientToken = clientToken;
  return out;
}
