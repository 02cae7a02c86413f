/**
 * HTTP control plane under `/_emulator/`, so a test can drive an emulator that
 * runs in another process. Plain JSON in and out (not the service protocol).
 * These requests are never recorded as API calls and never see faults or
 * latency.
 *
 * Routes:
 *   GET  /_emulator/health                          → { ok: true, url }
 *   POST /_emulator/invitations                     body SeedInvitationInput, or { count, ...SeedManyInput } →
 * SeededInvitationDetail[]
 *   GET  /_emulator/invitations/<catalog>/<id>      → InvitationRecord | 404
 *   GET  /_emulator/connections/<catalog>/<id>      → ConnectionRecord | 404
 *   POST /_emulator/connections/<catalog>/<id>/cancel  body { connectionType?, canceledBy? } → ConnectionRecord | 404
 *                                                   (the other side cancels, unless canceledBy names another account)
 *   GET  /_emulator/calls?operation=&identifier=    → RecordedCall[]
 *   POST /_emulator/script                          body ScriptedFailure | ScriptedFailure[] → { ok, added }
 *   GET  /_emulator/faults                          → current fault settings
 *   POST /_emulator/faults                          body Partial<fault settings>; null turns a fault off → current
 * settings
 *   GET  /_emulator/switches                        → the switches that are on
 *   POST /_emulator/switches                        body Partial<EmulatorSwitches>; null turns a switch off → the
 * switches that are on
 *   POST /_emulator/reset                           → { ok: true } (keeps faults and switches)
 *   POST /_emulator/invitations/<catalog>/<id>/cancel  the sender cancels it → InvitationRecord | 404 | 409
 *   POST /_emulator/invitations/<catalog>/<id>/expire  it expires → InvitationRecord | 404 | 409
 *   GET  /_emulator/events                          → { status, events } (Partner Central's events emitted)
 *   POST /_emulator/events                          body { queueUrl: string | null } → status (where they go)
 */
import { z } from "zod";
import {
  CONNECTION_TYPE_STATUSES,
  CONNECTION_TYPES,
  INVITATION_STATUSES,
  PARTICIPANT_KINDS,
  PARTICIPANT_TYPES,
  SCRIPTED_ERROR_NAMES,
  type CallFilter,
  type ConnectionRecord,
  type EmulatorSwitches,
  type FaultSettings,
  type InvitationRecord,
  type RecordedCall,
  type ScriptedFailure,
  type SeededInvitation,
  type SeedInvitationInput,
  type SeedManyInput,
} from "./types.js";
import { writeControlJson } from "./wire.js";
import type { ServerResponse } from "node:http";

export const CONTROL_PREFIX = "/_emulator/";

/** The part of the emulator the control plane drives. */
export interface ControlTarget {
  readonly url: string;
  seedInvitation(input?: SeedInvitationInput): SeededInvitation;
  seedInvitations(n: number, input?: SeedManyInput): SeededInvitation[];
  getInvitation(catalog: string, identifier: string): InvitationRecord | undefined;
  getConnection(catalog: string, identifier: string): ConnectionRecord | undefined;
  cancelConnection(
    catalog: string,
    identifier: string,
    options?: { connectionType?: (typeof CONNECTION_TYPES)[number]; canceledBy?: string },
  ): ConnectionRecord | undefined;
  calls(filter?: CallFilter): RecordedCall[];
  script(failure: ScriptedFailure): void;
  setFaults(partial: Partial<FaultSettings>): void;
  faults(): FaultSettings;
  setSwitches(partial: Partial<EmulatorSwitches>): void;
  switches(): EmulatorSwitches;
  reset(): void;
  endInvitation(
    catalog: string,
    identifier: string,
    to: "CANCELED" | "EXPIRED",
  ): InvitationRecord | { conflict: string } | undefined;
  setEventsQueueUrl(queueUrl: string | null): void;
  emittedEvents(): { status: unknown; events: unknown[] };
}

const participantSchema = z.object({
  accountId: z.string(),
  name: z.string(),
  emailDomain: z.string(),
  profileId: z.string().optional(),
  inviterName: z.string().optional(),
  kind: z.enum(PARTICIPANT_KINDS).optional(),
});

const cancelConnectionSchema = z.strictObject({
  connectionType: z.enum(CONNECTION_TYPES).optional(),
  canceledBy: z
    .string()
    .regex(/^[0-9]{12}$/, { error: "must be a 12-digit AWS account id" })
    .optional(),
});

const seedSchema = z.object({
  catalog: z.string().optional(),
  identifier: z.string().optional(),
  participantType: z.enum(PARTICIPANT_TYPES).optional(),
  status: z.enum(INVITATION_STATUSES).optional(),
  connectionType: z.enum(CONNECTION_TYPES).optional(),
  inviterName: z.string().optional(),
  inviterEmail: z.string().optional(),
  emailDomain: z.string().optional(),
  partnerName: z.string().optional(),
  otherParticipantAccountId: z.string().optional(),
  partnerProfileId: z.string().optional(),
  otherParticipantKind: z.enum(PARTICIPANT_KINDS).optional(),
  connectionStatus: z.enum(CONNECTION_TYPE_STATUSES).optional(),
  count: z.number().int().min(1).max(100_000).optional(),
  // Spread lists, with `count` only (SeedManyInput).
  catalogs: z.array(z.string()).optional(),
  statuses: z.array(z.enum(INVITATION_STATUSES)).optional(),
  connectionTypes: z.array(z.enum(CONNECTION_TYPES)).optional(),
  participants: z.union([z.number().int().min(1), z.array(participantSchema)]).optional(),
  emailDomains: z.array(z.string()).optional(),
});

const scriptSchema = z.object({
  operation: z.string().min(1),
  identifier: z.string().optional(),
  times: z.number().int().min(1),
  error: z.enum(SCRIPTED_ERROR_NAMES),
  reason: z.string().optional(),
  message: z.string().optional(),
  retryAfterSeconds: z.number().min(0).optional(),
  applyFirst: z.boolean().optional(),
});

const faultsSchema = z.object({
  throttleAboveRps: z.number().min(0).nullable().optional(),
  errorRate: z.number().min(0).max(1).nullable().optional(),
  throttleRate: z.number().min(0).max(1).nullable().optional(),
  latencyMs: z.number().min(0).nullable().optional(),
});

class ControlError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function parse<T>(schema: z.ZodType<T>, value: unknown): T {
  const r = schema.safeParse(value);
  if (!r.success) throw new ControlError(400, z.prettifyError(r.error));
  return r.data;
}

/** Handles one control request; `body` is the raw request body. Always writes a response. */
export function handleControl(
  target: ControlTarget,
  method: string,
  url: URL,
  body: string,
  res: ServerResponse,
): void {
  try {
    const json: unknown = body.trim() === "" ? {} : JSON.parse(body);
    const result = route(target, method, url, json);
    writeControlJson(res, result.status, result.body);
  } catch (err) {
    const status = err instanceof ControlError ? err.status : 400;
    writeControlJson(res, status, { error: err instanceof Error ? err.message : String(err) });
  }
}

function route(target: ControlTarget, method: string, url: URL, json: unknown): { status: number; body: unknown } {
  const path = url.pathname.slice(CONTROL_PREFIX.length).replace(/\/+$/, "");
  const parts = path.split("/").map((p) => decodeURIComponent(p));

  if (method === "GET" && path === "health") return { status: 200, body: { ok: true, url: target.url } };

  if (method === "POST" && path === "invitations") {
    const { count, catalogs, statuses, connectionTypes, participants, emailDomains, identifier, ...seed } = parse(
      seedSchema,
      json,
    );
    const spread = { catalogs, statuses, connectionTypes, participants, emailDomains };
    if (count === undefined) {
      if (Object.values(spread).some((v) => v !== undefined)) {
        throw new ControlError(400, "catalogs, statuses, connectionTypes, participants and emailDomains need count");
      }
      return { status: 200, body: [target.seedInvitation({ ...seed, identifier } as SeedInvitationInput)] };
    }
    const many = { ...seed, ...Object.fromEntries(Object.entries(spread).filter(([, v]) => v !== undefined)) };
    return { status: 200, body: target.seedInvitations(count, many as SeedManyInput) };
  }

  if (method === "GET" && (parts[0] === "invitations" || parts[0] === "connections") && parts.length === 3) {
    const record =
      parts[0] === "invitations"
        ? target.getInvitation(parts[1]!, parts[2]!)
        : target.getConnection(parts[1]!, parts[2]!);
    if (!record) throw new ControlError(404, `${parts[0].slice(0, -1)} ${parts[1]}/${parts[2]} not found`);
    return { status: 200, body: record };
  }

  if (method === "POST" && parts[0] === "connections" && parts.length === 4 && parts[3] === "cancel") {
    const options = parse(cancelConnectionSchema, json ?? {});
    const record = target.cancelConnection(parts[1]!, parts[2]!, options);
    if (!record) throw new ControlError(404, `connection ${parts[1]}/${parts[2]} not found`);
    return { status: 200, body: record };
  }

  if (method === "GET" && path === "calls") {
    const filter: CallFilter = {};
    const op = url.searchParams.get("operation");
    const id = url.searchParams.get("identifier");
    if (op) filter.operation = op;
    if (id) filter.identifier = id;
    return { status: 200, body: target.calls(filter) };
  }

  if (method === "POST" && path === "script") {
    const list = Array.isArray(json) ? json : [json];
    const failures = list.map((f) => parse(scriptSchema, f));
    for (const f of failures) target.script(f);
    return { status: 200, body: { ok: true, added: failures.length } };
  }

  if (path === "faults" && (method === "GET" || method === "POST")) {
    if (method === "POST") target.setFaults(parse(faultsSchema, json) as Partial<FaultSettings>);
    return { status: 200, body: target.faults() };
  }

  if (path === "switches" && (method === "GET" || method === "POST")) {
    if (method === "POST") {
      if (json === null || typeof json !== "object" || Array.isArray(json))
        throw new ControlError(400, "body must be an object");
      target.setSwitches(json as Partial<EmulatorSwitches>);
    }
    return { status: 200, body: target.switches() };
  }

  if (method === "POST" && parts[0] === "invitations" && parts.length === 4 && /^(cancel|expire)$/.test(parts[3]!)) {
    const r = target.endInvitation(parts[1]!, parts[2]!, parts[3] === "cancel" ? "CANCELED" : "EXPIRED");
    if (!r) throw new ControlError(404, `invitation ${parts[1]}/${parts[2]} not found`);
    if ("conflict" in r)
      throw new ControlError(409, `invitation ${parts[1]}/${parts[2]} is ${r.conflict}, not PENDING`);
    return { status: 200, body: r };
  }

  if (path === "events" && (method === "GET" || method === "POST")) {
    if (method === "POST") {
      const { queueUrl } = parse(z.object({ queueUrl: z.url().nullable() }), json);
      target.setEventsQueueUrl(queueUrl);
    }
    return { status: 200, body: method === "GET" ? target.emittedEvents() : target.emittedEvents().status };
  }

  if (method === "POST" && path === "reset") {
    target.reset();
    return { status: 200, body: { ok: true } };
  }

  throw new ControlError(404, `no control route ${method} ${url.pathname}`);
}
