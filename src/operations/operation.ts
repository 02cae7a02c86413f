import type { z } from "zod";
import type { ClassifiedError } from "../aws/classify-error.js";
import type { CallOptions, InvitationApi, InvitationStatusResult } from "../aws/invitation-api.js";

/**
 * An operation on an invitation (accept.ts, reject.ts): everything that differs from one to the
 * other, in one module. The run around it is the same for every operation: the shared limit,
 * the retries, the decision after an error, settling an unanswered call by reading the invitation,
 * the one outcome. Adding an operation is a module like accept.ts, its line in index.ts, and a
 * handler in the emulator (src/emulator/operations.ts) that answers its AWS operation.
 */
export interface InvitationOperation<
  Action extends string = string,
  Done extends string = string,
  Fields extends z.ZodRawShape = z.ZodRawShape,
  Outcome extends z.ZodRawShape = z.ZodRawShape,
> {
  /** The request's `action` (contracts/request.ts). */
  readonly action: Action;
  /** Its outcome's `type`: the past tense of the action (contracts/outcome.ts). */
  readonly done: Done;
  /** How `action`'s description names it, e.g. `"accept" (AcceptConnectionInvitation)`. */
  readonly describe: string;
  /** The AWS operation it calls (InvitationApi.act), as the model and the emulator name it. */
  readonly apiOperation: string;
  /** Its request's own fields (zod), allowed with this action only; each counts in the request's fingerprint. */
  readonly requestFields: Fields;
  /** Its outcome's fields after the envelope and `type` (zod): their JSON Schema is the contract's. */
  readonly outcomeFields: Outcome;
  /**
   * Fields every outcome of its requests carries in the envelope, whatever their type (zod, all
   * optional), and their values for a request: the request's own fields echoed (a reject's
   * `rejectReason`).
   */
  readonly envelopeFields: z.ZodRawShape;
  envelopeOf(request: Record<string, unknown>): Record<string, unknown>;
  /** Its own request fields back from an outcome's envelope (the inverse of envelopeOf: a redrive's request). */
  requestFieldsOf(envelope: Record<string, unknown>): Record<string, unknown>;
  /** The invitation status its success leaves behind (ACCEPTED for an accept). */
  readonly doneStatus: string;
  /** Statuses after which it can never succeed. */
  readonly finalStatuses: ReadonlySet<string>;
  /**
   * Its one API call, with the job's ClientToken: resolves to its outcome's fields (not yet
   * `already`); throws the SDK's exception otherwise.
   */
  call(api: InvitationApi, request: OperationRequest, options?: CallOptions): Promise<OutcomeFields>;
  /**
   * The outcome's fields for an invitation a read found in `doneStatus` (the request's effect is
   * there, from an earlier call whose answer was lost, or from elsewhere): `already` set.
   */
  alreadyDone(
    api: InvitationApi,
    catalog: string,
    invitation: InvitationStatusResult,
    options?: CallOptions,
  ): Promise<OutcomeFields>;
  /** How an error of its call is classified (terminal, transient, throttle, fault). */
  classify(error: unknown, now?: number): ClassifiedError;
  /** Its outcome in a table: the outcome's word and a detail (connection id, reason…). */
  describeOutcome(outcome: Record<string, unknown>): { outcome: string; detail: string };
  /** The fields of its "done" log line. */
  logFields(outcome: Record<string, unknown>): Record<string, unknown>;
}

/** What a run gives an operation's call: the invitation, the job's ClientToken, the request's own fields. */
export interface OperationRequest {
  catalog: string;
  identifier: string;
  clientToken: string;
  /** The request as submitted (its operation's own fields among the rest). */
  request: Record<string, unknown>;
}

/** An operation's outcome fields, as its call or its read made them. */
export type OutcomeFields = Record<string, unknown>;
