/**
 * The SigV4 checks of AWS's front door that a client can fail without a
 * wrong secret: no or malformed Authorization, an unknown access key, an
 * expired session token, a request time too far from the server's clock.
 * Pure: headers, switches and the emulator's clock in, an answer or nothing out.
 * The signature itself (the HMAC) is never verified.
 *
 * Checks run in this order and the first failure answers; each is off until
 * its switch is set:
 *   1. requireSignature    no Authorization → MissingAuthenticationTokenException,
 *                          not `AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…`
 *                          or no X-Amz-Date → IncompleteSignatureException;
 *   2. knownAccessKeyIds   access key id of the Credential not listed → UnrecognizedClientException;
 *   3. expiredSessionTokens X-Amz-Security-Token listed (or "all") → ExpiredTokenException;
 *   4. maxClockSkewSeconds X-Amz-Date further than that from the emulator's clock →
 *                          InvalidSignatureException "Signature expired: …" / "Signature not yet current: …".
 * All are answered with `authErrorStatus` (default 403, AWS's common-errors
 * table; older awsJson services such as DynamoDB answer 400).
 *
 * The SDK treats InvalidSignatureException as a clock-skew error: it takes
 * the server's time from the `Date` header (which follows the emulator's
 * clock, see clockOffsetMs), corrects its offset and, when it has attempts
 * left, retries with a fresh signature (reference §5.3).
 */
import type { EmulatorSwitches, FrontDoorErrorName } from "./types.js";
import { frontDoorError, type ApiResponse } from "./wire.js";

/**
 * AWS's wording of each front-door refusal, for a scripted one (faults.ts). The checks below word
 * theirs from the request (which parameter is missing, which dates); InvalidSignatureException is
 * here the signature mismatch (a signed header changed on the way), not the clock check.
 */
export const FRONT_DOOR_MESSAGES: Readonly<Record<FrontDoorErrorName, string>> = {
  MissingAuthenticationTokenException: "Request is missing Authentication Token",
  IncompleteSignatureException: "Authorization header requires 'Signature' parameter.",
  UnrecognizedClientException: "The security token included in the request is invalid.",
  ExpiredTokenException: "The security token included in the request is expired",
  InvalidSignatureException:
    "The request signature we calculated does not match the signature you provided. Check your " +
    "AWS Secret Access Key and signing method. Consult the service documentation for details.",
};

export interface SignatureHeaders {
  authorization?: string | undefined;
  amzDate?: string | undefined;
  securityToken?: string | undefined;
}

interface ParsedAuthorization {
  accessKeyId?: string;
  missing: string[];
  algorithmOk: boolean;
}

function parseAuthorization(value: string): ParsedAuthorization {
  const algorithm = "AWS4-HMAC-SHA256";
  const algorithmOk = value.startsWith(`${algorithm} `);
  const params = new Map<string, string>();
  for (const part of value.slice(algorithmOk ? algorithm.length : 0).split(",")) {
    const eq = part.indexOf("=");
    if (eq > 0) params.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const missing = ["Credential", "SignedHeaders", "Signature"].filter((p) => !params.get(p));
  const scope = params.get("Credential")?.split("/") ?? [];
  if (params.get("Credential") && (scope.length !== 5 || scope[4] !== "aws4_request" || !scope[0])) {
    missing.push("Credential");
  }
  const accessKeyId = scope[0] ? scope[0] : undefined;
  return { ...(accessKeyId !== undefined ? { accessKeyId } : {}), missing, algorithmOk };
}

/** `20250101T120000Z` ⇄ ms. */
export function parseAmzDate(value: string | undefined): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value ?? "");
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number) as [number, number, number, number, number, number, number];
  return Date.UTC(y, mo - 1, d, h, mi, s);
}

export function formatAmzDate(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d{3}/, "");
}

function skewText(seconds: number): string {
  return seconds % 60 === 0 ? `${seconds / 60} min.` : `${seconds} sec.`;
}

export function checkSignature(h: SignatureHeaders, sw: EmulatorSwitches, nowMs: number): ApiResponse | undefined {
  const status = sw.authErrorStatus ?? 403;
  const parsed = h.authorization === undefined ? undefined : parseAuthorization(h.authorization);

  if (sw.requireSignature) {
    if (parsed === undefined)
      return frontDoorError("MissingAuthenticationTokenException", "Request is missing Authentication Token", status);
    if (!parsed.algorithmOk) {
      return frontDoorError(
        "IncompleteSignatureException",
        "Unsupported AWS 'algorithm': expected AWS4-HMAC-SHA256",
        status,
      );
    }
    if (parsed.missing.length > 0) {
      const text = [...new Set(parsed.missing)].map((p) => `Authorization header requires '${p}' parameter.`).join(" ");
      return frontDoorError("IncompleteSignatureException", `${text} Authorization=${h.authorization}`, status);
    }
    if (h.amzDate === undefined) {
      return frontDoorError(
        "IncompleteSignatureException",
        "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
        status,
      );
    }
  }

  if (sw.knownAccessKeyIds !== undefined && !sw.knownAccessKeyIds.includes(parsed?.accessKeyId ?? "")) {
    return frontDoorError(
      "UnrecognizedClientException",
      "The security token included in the request is invalid.",
      status,
    );
  }

  const token = h.securityToken;
  const expired = sw.expiredSessionTokens;
  if (token !== undefined && expired !== undefined && (expired === "all" || expired.includes(token))) {
    return frontDoorError("ExpiredTokenException", "The security token included in the request is expired", status);
  }

  if (sw.maxClockSkewSeconds !== undefined) {
    const at = parseAmzDate(h.amzDate);
    if (at === undefined) {
      return frontDoorError(
        "IncompleteSignatureException",
        "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
        status,
      );
    }
    const maxMs = sw.maxClockSkewSeconds * 1000;
    const skew = skewText(sw.maxClockSkewSeconds);
    if (at < nowMs - maxMs) {
      return frontDoorError(
        "InvalidSignatureException",
        `Signature expired: ${h.amzDate} is now earlier than ` +
          `${formatAmzDate(nowMs - maxMs)} (${formatAmzDate(nowMs)} - ${skew})`,
        status,
      );
    }
    if (at > nowMs + maxMs) {
      return frontDoorError(
        "InvalidSignatureException",
        `Signature not yet current: ${h.amzDate} is still later than ` +
          `${formatAmzDate(nowMs + maxMs)} (${formatAmzDate(nowMs)} + ${skew})`,
        status,
      );
    }
  }
  return undefined;
}
