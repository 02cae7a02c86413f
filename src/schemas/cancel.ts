import { z } from "zod";
import { toFieldIssues, type FieldIssue } from "./issues.js";
import { isRequestId, REQUEST_ID_RULE } from "./request-id.js";

/** Longest `reason` of a cancel (carried as the canceled outcome's `reason`). */
export const CANCEL_REASON_MAX_LENGTH = 256;

const REASON_RULE = `must be 1-${CANCEL_REASON_MAX_LENGTH} characters`;

/** A cancel's reason: the same rule for cancelRequest, the CLI's --reason and the HTTP body. */
export const cancelReasonSchema = z
  .string({ error: "must be a string" })
  .min(1, { error: REASON_RULE })
  .max(CANCEL_REASON_MAX_LENGTH, { error: REASON_RULE });

const cancelOptionsSchema = z.object({ reason: cancelReasonSchema.optional() });

/** What is wrong with a cancel's arguments, by field (`requestId`, `reason`); empty when nothing. */
export function cancelIssues(requestId: unknown, options: { reason?: unknown }): FieldIssue[] {
  const issues: FieldIssue[] =
    typeof requestId === "string" && isRequestId(requestId) ? [] : [{ field: "requestId", rule: REQUEST_ID_RULE }];
  const parsed = cancelOptionsSchema.safeParse({ reason: options.reason });
  if (!parsed.success) issues.push(...toFieldIssues(parsed.error));
  return issues;
}
