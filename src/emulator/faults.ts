/**
 * Fault injection: scripted failures, a sliding-window rate limiter and a
 * random 500 rate.
 *
 * A decision is taken once per API request, before the operation runs, so a
 * faulted request never changes state. Precedence: scripted failures first
 * (they are deterministic and meant to override everything), then the
 * throttle gate, then the random error rate.
 *
 * A scripted "Hang" never answers (the request is parked until the client
 * gives up or the emulator closes); with `applyFirst` the operation is
 * carried out first, so the client cannot know that it was. A scripted
 * front-door error (ExpiredTokenException…) is answered as the signature
 * checks answer it (signature.ts, `authErrorStatus`), for that call only.
 */
import { FRONT_DOOR_MESSAGES } from "./signature.js";
import {
  FRONT_DOOR_ERROR_NAMES,
  SCRIPTED_ERROR_NAMES,
  type EmulatorOptions,
  type FaultSettings,
  type FrontDoorErrorName,
  type ScriptedErrorName,
  type ScriptedFailure,
} from "./types.js";
import { errorResponse, frontDoorError, type ApiResponse } from "./wire.js";

/** Operations that share the throttle budget (the read/accept hot path). */
export const THROTTLED_OPERATIONS: ReadonlySet<string> = new Set([
  "AcceptConnectionInvitation",
  "GetConnectionInvitation",
  "GetConnection",
]);

const SCRIPTABLE: ReadonlySet<ScriptedErrorName> = new Set<ScriptedErrorName>(SCRIPTED_ERROR_NAMES);
const FRONT_DOOR: ReadonlySet<string> = new Set<string>(FRONT_DOOR_ERROR_NAMES);
const isFrontDoor = (name: ScriptedErrorName): name is FrontDoorErrorName => FRONT_DOOR.has(name);

const WINDOW_MS = 1000;

/**
 * `respond`: answer with this instead of running the operation; `reset`:
 * destroy the socket; `hang`: never answer.
 */
export type FaultDecision =
  | { kind: "respond"; response: ApiResponse; applyFirst?: boolean }
  | { kind: "reset"; applyFirst?: boolean }
  | { kind: "hang"; applyFirst?: boolean }
  | undefined;

/** How the throttle gate and scripted front-door errors word their answers (from the switches). */
export interface ThrottleAnswer {
  retryAfterSeconds?: number | undefined;
  /** Status of a scripted front-door error, as of the signature checks (`authErrorStatus`); default 403. */
  authErrorStatus?: number | undefined;
}

export class FaultController {
  private current: FaultSettings;
  private readonly random: () => number;
  private scripts: ScriptedFailure[] = [];
  /** Arrival times (ms) of admitted requests of THROTTLED_OPERATIONS inside the current window. */
  private admitted: number[] = [];

  constructor(options: EmulatorOptions = {}) {
    this.random = options.random ?? Math.random;
    this.current = {};
    this.set({
      throttleAboveRps: options.throttleAboveRps,
      errorRate: options.errorRate,
      throttleRate: options.throttleRate,
      latencyMs: options.latencyMs,
    });
  }

  get settings(): FaultSettings {
    return { ...this.current };
  }

  get latencyMs(): number {
    return this.current.latencyMs ?? 0;
  }

  /**
   * Updates only the keys present in `partial`; a key present with value
   * undefined (or null, over HTTP) turns that fault off.
   */
  set(partial: Partial<FaultSettings>): void {
    const next = { ...this.current };
    for (const k of ["throttleAboveRps", "errorRate", "throttleRate", "latencyMs"] as const) {
      if (!(k in partial)) continue;
      const v = partial[k] as number | null | undefined;
      if (v === undefined || v === null) {
        delete next[k];
        continue;
      }
      if (typeof v !== "number" || !Number.isFinite(v) || v < 0) throw new Error(`${k} must be a number >= 0`);
      if ((k === "errorRate" || k === "throttleRate") && v > 1) throw new Error(`${k} must be within 0..1`);
      next[k] = v;
    }
    this.current = next;
  }

  /** Queues a scripted failure; scripts are matched in the order they were added. */
  script(failure: ScriptedFailure): void {
    if (!failure || typeof failure.operation !== "string" || failure.operation.length === 0) {
      throw new Error("script: operation is required");
    }
    if (!Number.isInteger(failure.times) || failure.times < 1) throw new Error("script: times must be an integer >= 1");
    if (!SCRIPTABLE.has(failure.error)) throw new Error(`script: unknown error ${String(failure.error)}`);
    this.scripts.push({ ...failure });
  }

  /** Forgets scripts and the throttle window; keeps the fault settings. */
  reset(): void {
    this.scripts = [];
    this.admitted = [];
  }

  pendingScripts(): ScriptedFailure[] {
    return this.scripts.map((s) => ({ ...s }));
  }

  decide(operation: string, identifier: string | undefined, nowMs: number, answer: ThrottleAnswer = {}): FaultDecision {
    const scripted = this.takeScript(operation, identifier);
    if (scripted) return scriptedDecision(scripted, answer.authErrorStatus ?? 403);

    const limit = this.current.throttleAboveRps;
    if (limit !== undefined && THROTTLED_OPERATIONS.has(operation)) {
      while (this.admitted.length > 0 && this.admitted[0]! <= nowMs - WINDOW_MS) this.admitted.shift();
      if (this.admitted.length >= limit) {
        return {
          kind: "respond",
          response: errorResponse("ThrottlingException", `Rate exceeded: more than ${limit} requests per second`, {
            ...(answer.retryAfterSeconds !== undefined ? { retryAfterSeconds: answer.retryAfterSeconds } : {}),
          }),
        };
      }
      this.admitted.push(nowMs);
    }

    const throttleRate = this.current.throttleRate ?? 0;
    if (throttleRate > 0 && THROTTLED_OPERATIONS.has(operation) && this.random() < throttleRate) {
      return {
        kind: "respond",
        response: errorResponse(
          "ThrottlingException",
          "Rate exceeded (injected by throttleRate: other traffic on the account)",
          {
            ...(answer.retryAfterSeconds !== undefined ? { retryAfterSeconds: answer.retryAfterSeconds } : {}),
          },
        ),
      };
    }

    const rate = this.current.errorRate ?? 0;
    if (rate > 0 && this.random() < rate) {
      return {
        kind: "respond",
        response: errorResponse("InternalServerException", "An internal error occurred (injected by errorRate)"),
      };
    }
    return undefined;
  }

  private takeScript(operation: string, identifier: string | undefined): ScriptedFailure | undefined {
    const i = this.scripts.findIndex(
      (s) =>
        (s.operation === operation || s.operation === "*") &&
        (s.identifier === undefined || s.identifier === identifier),
    );
    if (i < 0) return undefined;
    const s = this.scripts[i]!;
    s.times -= 1;
    if (s.times <= 0) this.scripts.splice(i, 1);
    return s;
  }
}

function scriptedDecision(s: ScriptedFailure, authErrorStatus: number): FaultDecision {
  const decision = scriptedAnswer(s, authErrorStatus);
  return s.applyFirst && decision ? { ...decision, applyFirst: true } : decision;
}

function scriptedAnswer(s: ScriptedFailure, authErrorStatus: number): FaultDecision {
  if (s.error === "ConnectionReset") return { kind: "reset" };
  if (s.error === "Hang") return { kind: "hang" };
  if (isFrontDoor(s.error)) {
    return {
      kind: "respond",
      response: frontDoorError(s.error, s.message ?? FRONT_DOOR_MESSAGES[s.error], authErrorStatus),
    };
  }
  const headers: Record<string, string> = {};
  if (s.retryAfterSeconds !== undefined) headers["Retry-After"] = String(s.retryAfterSeconds);
  if (s.error === "ServiceUnavailable503") {
    return { kind: "respond", response: { status: 503, body: undefined, headers, errorType: "ServiceUnavailable" } };
  }
  const message = s.message ?? `Scripted ${s.error}`;
  return {
    kind: "respond",
    response: errorResponse(s.error, message, {
      ...(s.reason !== undefined ? { reason: s.reason } : {}),
      ...(s.retryAfterSeconds !== undefined ? { retryAfterSeconds: s.retryAfterSeconds } : {}),
    }),
  };
}
