import {
  AcceptConnectionInvitationCommand,
  GetConnectionCommand,
  GetConnectionInvitationCommand,
  PartnerCentralAccountClient,
  type PartnerCentralAccountClientConfig,
} from "@aws-sdk/client-partnercentral-account";
import { CONFIG_DEFAULTS } from "../schemas/config.js";
import type { InvitationApi } from "./invitation-api.js";
import { connectionToEvent } from "./connection-to-event.js";

export interface SdkInvitationApiOptions {
  /** @defaultValue AWS_REGION's default, us-east-1 (the only region of this API) */
  region?: string;
  /** Endpoint override (the emulator); unset = AWS. */
  endpoint?: string;
  /** Static credentials; unset = the standard AWS credential chain. */
  credentials?: PartnerCentralAccountClientConfig["credentials"];
  /** Per-call timeout, ms. @defaultValue AWS_REQUEST_TIMEOUT_MS's default, 10000 */
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
      connectionTimeout: Math.min(timeoutMs, 5_000),
    },
  });
  return {
    async acceptInvitation(input, callOptions) {
      const out = await client.send(
        new AcceptConnectionInvitationCommand({
          Catalog: input.catalog,
          Identifier: input.identifier,
          ClientToken: input.clientToken,
        }),
        callOptions?.signal ? { abortSignal: callOptions.signal } : {},
      );
      return { connection: connectionToEvent(out.Connection), awsRequestId: out.$metadata.requestId ?? null };
    },
    async getInvitation(input, callOptions) {
      const out = await client.send(
        new GetConnectionInvitationCommand({ Catalog: input.catalog, Identifier: input.identifier }),
        callOptions?.signal ? { abortSignal: callOptions.signal } : {},
      );
      return { status: String(out.Status), connectionId: out.ConnectionId ?? null };
    },
    async getConnection(input, callOptions) {
      const { $metadata, ...connection } = await client.send(
        new GetConnectionCommand({ Catalog: input.catalog, Identifier: input.connectionId }),
        callOptions?.signal ? { abortSignal: callOptions.signal } : {},
      );
      return { connection: connectionToEvent(connection), awsRequestId: $metadata.requestId ?? null };
    },
    destroy: () => client.destroy(),
  };
}
