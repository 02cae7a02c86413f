/**
 * Applies the wire-shape switches to a decided answer, just before it is
 * written. Pure: returns a new `ApiResponse` and never mutates its argument
 * (remembered ClientToken answers are replayed through here too).
 *
 * With every switch off the answer is returned unchanged, which is the
 * canonical awsJson1_0 form of wire.ts. Each switch stays within what the
 * SDK accepts as the same answer (reference §5.5):
 * - errorTypeLocation/Format/Namespace: the SDK reads body `__type` first,
 *   then the `x-amzn-ErrorType` header, and strips `namespace#` and
 *   `:http://…` from either, so every spelling names the same error;
 * - throttleStatus: ThrottlingException is throttling by name at any status;
 * - emptyServerErrorBodies: a 5xx stays a 5xx, without a type (the SDK then
 *   names it "Unknown"), as a load balancer in front of AWS answers;
 * - omitOutputFields: only members the model marks optional (switches.ts).
 */
import type { EmulatorSwitches } from "./types.js";
import type { ApiResponse } from "./wire.js";
import { ERROR_NAMESPACE } from "./wire.js";

export const ERROR_TYPE_HEADER = "x-amzn-ErrorType";

/** Removes a dotted path (`*` = every key of an object, or every item of a list). */
function omitPath(value: unknown, segments: readonly string[]): void {
  if (value === null || typeof value !== "object" || segments.length === 0) return;
  const [head, ...rest] = segments as [string, ...string[]];
  const children = head === "*" ? Object.values(value) : [(value as Record<string, unknown>)[head]];
  if (rest.length === 0) {
    if (head === "*") return;
    delete (value as Record<string, unknown>)[head];
    return;
  }
  for (const child of children) omitPath(child, rest);
}

export function omitFields(body: Record<string, unknown>, paths: readonly string[]): Record<string, unknown> {
  const copy = structuredClone(body);
  for (const p of paths) omitPath(copy, p.split("."));
  return copy;
}

function spellErrorType(
  name: string,
  namespace: string | undefined,
  format: EmulatorSwitches["errorTypeFormat"],
): string {
  if (namespace === undefined || format === "bare") return name;
  if (format === "coral") return `${name}:http://internal.amazon.com/coral/${namespace}/`;
  return `${namespace}#${name}`;
}

export function styleAnswer(
  response: ApiResponse,
  sw: EmulatorSwitches,
  omittedPaths: readonly string[] = [],
): ApiResponse {
  if (response.status === 200) {
    if (omittedPaths.length === 0 || response.body === undefined) return response;
    return { ...response, body: omitFields(response.body, omittedPaths) };
  }
  const out: ApiResponse = { ...response, headers: { ...response.headers } };
  if (response.errorType === "ThrottlingException" && sw.throttleStatus !== undefined) out.status = sw.throttleStatus;

  if (out.status >= 500 && sw.emptyServerErrorBodies) {
    out.body = undefined;
    return out;
  }
  // Only errors of a namespace (modelled ones and the front door's) are restyled;
  // protocol errors keep their bare __type.
  if (response.errorNamespace === undefined || response.errorType === undefined || out.body === undefined) return out;
  const namespace =
    response.errorNamespace === ERROR_NAMESPACE ? (sw.errorNamespace ?? ERROR_NAMESPACE) : response.errorNamespace;
  const type = spellErrorType(response.errorType, namespace, sw.errorTypeFormat);
  const location = sw.errorTypeLocation ?? "body";
  const { __type: _drop, ...rest } = out.body;
  out.body = location === "header" ? rest : { __type: type, ...rest };
  if (location !== "body") out.headers![ERROR_TYPE_HEADER] = type;
  return out;
}
