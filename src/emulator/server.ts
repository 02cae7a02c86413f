/**
 * `PartnerCentralEmulator`: a node:http server that speaks the awsJson1_0
 * protocol of the Partner Central Account API well enough for the real
 * `@aws-sdk/client-partnercentral-account` client, plus test controls.
 *
 * Request pipeline for API calls (`POST` to any path ending in `/`):
 *   1. record the call (arrival time, parsed input) in the call log;
 *   2. the `hang` switch: accept the request and never answer;
 *   3. signature checks (signature.ts), off unless switched on;
 *   4. resolve the operation from `X-Amz-Target` (400 UnknownOperationException)
 *      and parse the body (400 SerializationException);
 *   5. take the fault decision (scripted → throttle → errorRate) at arrival;
 *   6. wait `latencyMs`;
 *   7. answer the fault, or run the operation (validation, idempotency, state);
 *   8. restyle the answer by the wire switches (answer-style.ts), complete the
 *      call log entry, then write the response.
 * Faulted and refused requests never change state (except scripted
 * `applyFirst`). Control requests (`/_emulator/…`) bypass all of this.
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { styleAnswer } from "./answer-style.js";
import { CONTROL_PREFIX, handleControl, type ControlTarget } from "./control.js";
import { FaultController } from "./faults.js";
import { executeOperation, type OperationContext } from "./operations.js";
import { readApiRequest, readBody } from "./request.js";
import { spreadSeedInputs } from "./seeding.js";
import { checkSignature } from "./signature.js";
import { EmulatorStore } from "./state.js";
import { eventOfChange, SqsEventSink, type EventSinkStatus } from "./events.js";
import type { PartnerEventJson } from "../schemas/partnercentral-events.js";
import { SWITCH_NAMES, SwitchBoard } from "./switches.js";
import type {
  CallFilter,
  ConnectionRecord,
  ConnectionType,
  EmulatorOptions,
  EmulatorSwitches,
  FaultSettings,
  InvitationRecord,
  RecordedCall,
  ScriptedFailure,
  SeededInvitationDetail,
  SeedInvitationInput,
  SeedManyInput,
} from "./types.js";
import { ApiError, errorResponse, protocolError, writeResponse, type ApiResponse } from "./wire.js";

export { TARGET_PREFIX } from "./request.js";

function pickSwitches(options: EmulatorOptions): EmulatorSwitches {
  const out: Record<string, unknown> = {};
  for (const k of SWITCH_NAMES) if (options[k] !== undefined) out[k] = options[k];
  return out as EmulatorSwitches;
}

export class PartnerCentralEmulator implements ControlTarget {
  private readonly store: EmulatorStore;
  private readonly events: SqsEventSink;
  private readonly faultCtl: FaultController;
  private readonly switchBoard: SwitchBoard;
  private log: RecordedCall[] = [];
  private seq = 0;
  private closed = false;
  /** Resolvers of in-progress latency waits, released early on close(). */
  private readonly waits = new Map<NodeJS.Timeout, () => void>();
  /** Releases of requests that hang (never answered), called on close() or when the client goes away. */
  private readonly parked = new Set<() => void>();
  private readonly server: Server;
  private boundPort = 0;
  private host: string;

  private constructor(options: EmulatorOptions) {
    this.faultCtl = new FaultController(options);
    this.switchBoard = new SwitchBoard(pickSwitches(options));
    this.store = new EmulatorStore(options.clientTokenTtlMs);
    this.events = new SqsEventSink(options.eventsQueueUrl ?? null);
    const account = options.accountId ?? "111122223333";
    this.store.onChange = (change) => this.events.emit(eventOfChange(change, account));
    this.host = options.host ?? "127.0.0.1";
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        if (!res.headersSent && !res.destroyed) {
          writeResponse(
            res,
            errorResponse("InternalServerException", `Emulator failure: ${String(err)}`),
            randomUUID(),
          );
        }
      });
    });
  }

  /** Starts listening; resolves once the port is bound. Throws if a switch is invalid. */
  static async start(options: EmulatorOptions = {}): Promise<PartnerCentralEmulator> {
    const emu = new PartnerCentralEmulator(options);
    await new Promise<void>((resolve, reject) => {
      emu.server.once("error", reject);
      emu.server.listen(options.port ?? 0, emu.host, () => {
        emu.server.off("error", reject);
        resolve();
      });
    });
    emu.boundPort = (emu.server.address() as AddressInfo).port;
    return emu;
  }

  /** Base URL to pass as the SDK's `endpoint`, e.g. "http://127.0.0.1:41234". */
  get url(): string {
    const h = this.host.includes(":") ? `[${this.host}]` : this.host;
    return `http://${h}:${this.boundPort}`;
  }

  get port(): number {
    return this.boundPort;
  }

  seedInvitation(input: SeedInvitationInput = {}): SeededInvitationDetail {
    return this.store.seed(input);
  }

  /** Seeds n invitations spread over partners, types, catalogs, statuses and email domains (see `SeedManyInput`). */
  seedInvitations(n: number, input: SeedManyInput = {}): SeededInvitationDetail[] {
    return spreadSeedInputs(n, input).map((one) => this.store.seed(one));
  }

  /**
   * Extension: the invitation's sender cancels it (Partner Connection Invitation Cancelled), or it
   * expires (… Expired). Undefined when there is no such invitation; `{ conflict }` when it is not PENDING.
   */
  endInvitation(
    catalog: string,
    identifier: string,
    to: "CANCELED" | "EXPIRED",
  ): InvitationRecord | { conflict: string } | undefined {
    const r = this.store.transition(catalog, identifier, to);
    if (r === undefined || "conflict" in r) return r;
    return r.invitation;
  }

  /** Extension: where events go (an SQS queue URL, or null: kept for `emittedEvents` only). */
  setEventsQueueUrl(queueUrl: string | null): void {
    this.events.setQueueUrl(queueUrl);
  }

  /** Extension: the events emitted so far (the last 10,000), and how sending them went. */
  emittedEvents(): { status: EventSinkStatus; events: PartnerEventJson[] } {
    return { status: this.events.status, events: structuredClone(this.events.emitted) };
  }

  /** Extension: resolves once every event emitted so far was sent to the queue (or failed). */
  flushEvents(): Promise<void> {
    return this.events.flush();
  }

  /** Deep copy of the stored record (incl. Status and ConnectionId), or undefined. */
  getInvitation(catalog: string, identifier: string): InvitationRecord | undefined {
    return this.store.getInvitation(catalog, identifier);
  }

  /** Extension: deep copy of a stored connection. */
  getConnection(catalog: string, identifier: string): ConnectionRecord | undefined {
    return this.store.getConnection(catalog, identifier);
  }

  /** Extension: cancels a connection's types (all, or `connectionType`), by the other side unless `canceledBy`. */
  cancelConnection(
    catalog: string,
    identifier: string,
    options: { connectionType?: ConnectionType; canceledBy?: string } = {},
  ): ConnectionRecord | undefined {
    return this.store.cancelConnection(catalog, identifier, options);
  }

  /** Recorded API calls in arrival order (copies), optionally filtered. */
  calls(filter: CallFilter = {}): RecordedCall[] {
    return this.log
      .filter(
        (c) =>
          (filter.operation === undefined || c.operation === filter.operation) &&
          (filter.identifier === undefined || c.identifier === filter.identifier),
      )
      .map((c) => structuredClone(c));
  }

  /** Queues a scripted failure; scripted failures take precedence over random faults and throttling. */
  script(failure: ScriptedFailure): void {
    this.faultCtl.script(failure);
  }

  /** Changes fault knobs; keys absent are kept, keys set to undefined are turned off. */
  setFaults(partial: Partial<FaultSettings>): void {
    this.faultCtl.set(partial);
  }

  /** Extension: current fault settings. */
  faults(): FaultSettings {
    return this.faultCtl.settings;
  }

  /**
   * Changes switches; keys absent are kept, keys set to undefined (or null) are
   * turned off. Validates everything first: on an Error nothing changed.
   */
  setSwitches(partial: Partial<EmulatorSwitches>): void {
    this.switchBoard.set(partial as Record<string, unknown>);
  }

  /** The switches that are on. */
  switches(): EmulatorSwitches {
    return this.switchBoard.settings;
  }

  /**
   * Clears invitations, connections, remembered tokens, the call log, scripts and
   * the throttle window. Fault settings and switches are kept.
   */
  reset(): void {
    this.store.clear();
    this.log = [];
    this.seq = 0;
    this.faultCtl.reset();
  }

  /** Stops the server, including idle keep-alive, in-flight and hanging sockets. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const [timer, release] of this.waits) {
      clearTimeout(timer);
      release();
    }
    this.waits.clear();
    for (const release of [...this.parked]) release();
    const done = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await done;
  }

  private delay(ms: number): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waits.delete(timer);
        resolve();
      }, ms);
      this.waits.set(timer, resolve);
    });
  }

  /** Never answers: resolves when the client goes away or the emulator closes (which destroys the socket). */
  private hang(call: RecordedCall, req: IncomingMessage, res: ServerResponse): Promise<void> {
    call.errorType = "Hang";
    if (this.closed) {
      req.socket.destroy();
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const release = (): void => {
        this.parked.delete(release);
        resolve();
      };
      this.parked.add(release);
      res.once("close", release);
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const arrivedAt = Date.now();
    const { text, tooLarge } = await readBody(req);
    const url = new URL(req.url ?? "/", "http://emulator.local");
    const method = req.method ?? "GET";

    if (url.pathname.startsWith(CONTROL_PREFIX)) return handleControl(this, method, url, text, res);
    if (method !== "POST" || !url.pathname.endsWith("/")) {
      const r = protocolError("UnknownOperationException", `No API at ${method} ${url.pathname}; use POST /`);
      writeResponse(res, { ...r, status: method !== "POST" ? 405 : 404 }, randomUUID());
      return;
    }
    await this.handleApi(req, res, text, tooLarge, arrivedAt);
  }

  private async handleApi(
    req: IncomingMessage,
    res: ServerResponse,
    text: string,
    tooLarge: boolean,
    arrivedAt: number,
  ): Promise<void> {
    const requestId = randomUUID();
    const api = readApiRequest(req, text, tooLarge);
    const { operation, op, input, identifier } = api;
    const call: RecordedCall = { seq: ++this.seq, at: arrivedAt, operation, input, status: 0, requestId };
    if (api.clientToken !== undefined) call.clientToken = api.clientToken;
    if (identifier !== undefined) call.identifier = identifier;
    if (api.catalog !== undefined) call.catalog = api.catalog;
    this.log.push(call);

    if (this.switchBoard.hangs(operation)) return this.hang(call, req, res);

    const sw = this.switchBoard.view;
    const context: OperationContext = {
      conflictReasonFor: (s) => this.switchBoard.conflictReasonFor(s),
      listConnectionsActiveOnly: sw.listConnectionsActiveOnly === true,
      ...(sw.repeatNextToken ? { repeatNextToken: sw.repeatNextToken } : {}),
    };
    const refused = checkSignature(api.signature, sw, this.switchBoard.now()) ?? api.early;
    const decision = refused
      ? undefined
      : this.faultCtl.decide(operation, identifier, arrivedAt, {
          retryAfterSeconds: sw.throttleRetryAfterSeconds,
          authErrorStatus: sw.authErrorStatus,
        });

    await this.delay(this.faultCtl.latencyMs);
    if (this.closed) {
      req.socket.destroy();
      return;
    }

    if (decision?.applyFirst && op !== undefined) {
      try {
        executeOperation(this.store, op, input, context);
      } catch {
        // The scripted answer replaces whatever the operation said.
      }
    }
    if (decision?.kind === "reset") {
      call.errorType = "ConnectionReset";
      req.socket.resetAndDestroy();
      return;
    }
    if (decision?.kind === "hang") return this.hang(call, req, res);

    let response: ApiResponse;
    if (refused) response = refused;
    else if (decision) response = decision.response;
    else if (op === undefined) response = protocolError("UnknownOperationException", operation);
    else {
      try {
        const result = executeOperation(this.store, op, input, context);
        response = result.response;
        if (result.replayed) call.replayed = true;
      } catch (err) {
        response =
          err instanceof ApiError
            ? err.response
            : errorResponse("InternalServerException", `Emulator failure: ${String(err)}`);
      }
    }

    let answer = styleAnswer(response, sw, op !== undefined ? this.switchBoard.omittedPaths(op) : []);
    // The Date header tells the SDK the server's time (its clock-skew correction reads it).
    if (sw.clockOffsetMs) {
      answer = { ...answer, headers: { ...answer.headers, Date: new Date(this.switchBoard.now()).toUTCString() } };
    }
    call.status = answer.status;
    if (response.errorType !== undefined) call.errorType = response.errorType;
    if (response.reason !== undefined) call.reason = response.reason;
    writeResponse(res, answer, requestId);
  }
}
