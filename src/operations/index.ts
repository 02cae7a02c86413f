import { accept } from "./accept.js";
import type { InvitationOperation } from "./operation.js";
import { reject } from "./reject.js";

/**
 * The operations a request can ask for, the default first: each one's module says everything that
 * differs (operation.ts). Adding one is its module, its line here, and a handler in the emulator.
 */
export const OPERATIONS = [accept, reject] as const;

/** The default operation: a request without `action` accepts. */
export const DEFAULT_OPERATION = accept;

export type Operation = (typeof OPERATIONS)[number];
export type RequestAction = Operation["action"];

/** The operation of a request's `action` ("accept" when it has none). */
export function operationOf(action: string | null | undefined): InvitationOperation {
  const op = OPERATIONS.find((o) => o.action === (action ?? DEFAULT_OPERATION.action));
  if (!op) throw new Error(`no operation for action ${JSON.stringify(action)}`);
  return op;
}

/** The operation whose outcome `type` this is, if any (`failed` and `canceled` are nobody's). */
export function operationDone(type: string): InvitationOperation | undefined {
  return OPERATIONS.find((o) => o.done === type);
}
