import * as sdk from "@aws-sdk/client-partnercentral-account";
import {
  GetConnectionCommand,
  GetConnectionInvitationCommand,
  ListConnectionInvitationsCommand,
  ListConnectionsCommand,
  PartnerCentralAccountClient,
  type PartnerCentralAccountClientConfig,
} from "@aws-sdk/client-partnercentral-account";
import { CONFIG_DEFAULTS } from "../schemas/config.js";
import type { CallOptions, InvitationApi } from "./invitation-api.js";
import { connectionToEvent, invitationToEvent } from "./connection-to-event.js";

export interface SdkInvitationApiOptions {
  /** @defaultValue AWS_REGION's default, us-east-1 (the only region of this API) */
  region?: string;
  /** Endpoint override (the emulator); unset = AWS. */
  endpoint?: string;
  /** Static credentials; unset = the standard AWS credential chain. */
  credentials?: PartnerCentralAccountClientConfig["credentials"];
  /**
   * Per-call timeout, ms: the SDK's request timeout (set to throw, not only warn), and a hard bound
   * on the whole call (connection, signing, waiting for the answer) through an abort signal.
   * @defaultValue AWS_REQUEST_TIMEOUT_MS's default, 10000
   */
  requestTimeoutMs?: number;
}

/**
 * The only module that imports @aws-sdk. SDK-level retries are off (maxAttempts 1): every retry
 * goes back through the queue, so it passes the shared rate limit, is logged, and is bounded by
 * the job's attempts.
 */
export function createSdkInvitationApi(options: SdkInvitationApiOptions = {}): InvitationApi & { destroy(): void } {
  const timeoutMs = options.requestTimeoutMs ?? CONFIG_DEFAULTS.AWS_REQUEST_TIMEOUT_MS;
  const client = new PartnerCentralAccountClient({
    region: options.region ?? CONFIG_DEFAULTS.AWS_REGION,
    maxAttempts: 1,
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
    requestHandler: {
      requestTimeout: timeoutMs,
      // Without it the SDK only logs a warning when requestTimeout passes, and the call hangs on.
      throwOnRequestTimeout: true,
      connectionTimeout: Math.min(timeoutMs, 5_000),
    },
  });

  /**
   * One send, ended by the caller's signal (a lost job lock, a shutdown) or by the hard timeout,
   * whichever comes first. A timeout is reported as a TimeoutError with code ETIMEDOUT: a network
   * error after which AWS may have acted (classifyError: transient, indeterminate).
   */
  async function send<T>(
    callOptions: CallOptions | undefined,
    call: (opts: { abortSignal: AbortSignal }) => Promise<T>,
  ): Promise<T> {
    // One controller, a timer and a listener: AbortSignal.timeout + AbortSignal.any cost ~20 µs of
    // CPU per call (composite signals are tracked through weak references), the whole call ~350.
    const controller = new AbortController();
    const parent = callOptions?.signal;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort(new DOMException(`no answer within ${timeoutMs} ms`, "TimeoutError"));
    }, timeoutMs);
    const onAbort = () => controller.abort(parent!.reason);
    if (parent?.aborted) onAbort();
    else parent?.addEventListener("abort", onAbort, { once: true });
    try {
      // The SDK looks at the signal only once the request is on the wire: a phase before it (a
      // credential provider that never answers, signing) would go on past the abort. The race ends
      // the call at the abort whatever phase it is in (the SDK's own rejection, later, is ignored).
      return await Promise.race([call({ abortSignal: controller.signal }), abortedSignal(controller.signal)]);
    } catch (err) {
      if (timedOut && !parent?.aborted) {
        throw Object.assign(
          new Error(`no answer from Partner Central within ${timeoutMs} ms (AWS_REQUEST_TIMEOUT_MS)`),
          {
            name: "TimeoutError",
            code: "ETIMEDOUT",
            cause: err,
          },
        );
      }
      throw err;
    } finally {
      clearTimeout(timer);
      parent?.removeEventListener("abort", onAbort);
    }
  }

  return {
    async act(operation, input, callOptions) {
      const Command = commandOf(operation);
      const { $metadata, ...output } = (await send(callOptions, (o) => client.send(new Command(input), o))) as {
        $metadata: { requestId?: string };
      } & Record<string, unknown>;
      return { output, awsRequestId: $metadata.requestId ?? null };
    },
    async getInvitation(input, callOptions) {
      const { $metadata, ...out } = await send(callOptions, (o) =>
        client.send(new GetConnectionInvitationCommand({ Catalog: input.catalog, Identifier: input.identifier }), o),
      );
      return {
        status: String(out.Status),
        connectionId: out.ConnectionId ?? null,
        otherParticipantIdentifier: out.OtherParticipantIdentifier ?? null,
        connectionType: out.ConnectionType ?? null,
        invitation: invitationToEvent(out),
        awsRequestId: $metadata.requestId ?? null,
      };
    },
    async listInvitations(input, callOptions) {
      const out = await send(callOptions, (o) =>
        client.send(
          new ListConnectionInvitationsCommand({
            Catalog: input.catalog,
            ...(input.participantType ? { ParticipantType: input.participantType as never } : {}),
            ...(input.status ? { Status: input.status as never } : {}),
            ...(input.nextToken ? { NextToken: input.nextToken } : {}),
            ...(input.maxResults !== undefined ? { MaxResults: input.maxResults } : {}),
          }),
          o,
        ),
      );
      return {
        invitations: (out.ConnectionInvitationSummaries ?? []).flatMap((s) =>
          s.Id
            ? [
                {
                  catalog: s.Catalog ?? input.catalog,
                  identifier: s.Id,
                  status: String(s.Status),
                  connectionType: s.ConnectionType ?? null,
                  participantType: s.ParticipantType ?? null,
                  otherParticipantIdentifier: s.OtherParticipantIdentifier ?? null,
                  createdAt: s.CreatedAt ? s.CreatedAt.toISOString() : null,
                  expiresAt: s.ExpiresAt ? s.ExpiresAt.toISOString() : null,
                },
              ]
            : [],
        ),
        nextToken: out.NextToken ?? null,
      };
    },
    async getConnection(input, callOptions) {
      const { $metadata, ...connection } = await send(callOptions, (o) =>
        client.send(new GetConnectionCommand({ Catalog: input.catalog, Identifier: input.connectionId }), o),
      );
      return { connection: connectionToEvent(connection), awsRequestId: $metadata.requestId ?? null };
    },
    async listConnections(input, callOptions) {
      const out = await send(callOptions, (o) =>
        client.send(
          new ListConnectionsCommand({
            Catalog: input.catalog,
            ...(input.otherParticipantIdentifier
              ? { OtherParticipantIdentifiers: [input.otherParticipantIdentifier] }
              : {}),
            ...(input.connectionType ? { ConnectionType: input.connectionType } : {}),
            ...(input.nextToken ? { NextToken: input.nextToken } : {}),
            ...(input.maxResults ? { MaxResults: input.maxResults } : {}),
          }),
          o,
        ),
      );
      return {
        connections: (out.ConnectionSummaries ?? []).flatMap((c) =>
          c.Id
            ? [
                {
                  id: c.Id,
                  typeStatuses: Object.fromEntries(
                    Object.entries(c.ConnectionTypes ?? {}).map(([type, summary]) => [type, String(summary?.Status)]),
                  ),
                  updatedAt: c.UpdatedAt ? c.UpdatedAt.toISOString() : null,
                  otherParticipantAccountId: c.OtherParticipantAccountId ?? null,
                },
              ]
            : [],
        ),
        nextToken: out.NextToken ?? null,
      };
    },
    destroy: () => client.destroy(),
  };
}

type AnyCommand = new (input: Record<string, unknown>) => Parameters<PartnerCentralAccountClient["send"]>[0];

/**
 * The SDK's command class of an operation on an invitation, by its AWS name
 * (`AcceptConnectionInvitation` → AcceptConnectionInvitationCommand): the one place an operation
 * of src/operations meets the SDK, without a line of its own here.
 * @throws Error naming an operation the installed SDK does not have
 */
function commandOf(operation: string): AnyCommand {
  const command = (sdk as Record<string, unknown>)[`${operation}Command`];
  if (typeof command !== "function" || !/^[A-Z][A-Za-z]+$/.test(operation)) {
    throw new Error(`the Partner Central Account SDK has no operation ${JSON.stringify(operation)}`);
  }
  return command as AnyCommand;
}

/**
 * Rejects when `signal` aborts, with the error the SDK's HTTP handler gives an aborted request
 * (name AbortError, the signal's reason as `cause`), so callers see one shape whichever comes first.
 */
function abortedSignal(signal: AbortSignal): Promise<never> {
  return new Promise<never>((_, reject) => {
    const fail = () =>
      reject(Object.assign(new Error("Request aborted"), { name: "AbortError", cause: signal.reason as unknown }));
    if (signal.aborted) fail();
    else signal.addEventListener("abort", fail, { once: true });
  });
}
