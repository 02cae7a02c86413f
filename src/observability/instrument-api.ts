import type { InvitationApi } from "../aws/invitation-api.js";
import { classifyError } from "../aws/classify-error.js";
import type { Metrics } from "./metrics.js";
import type { Span } from "@opentelemetry/api";
import { startSpan } from "./tracing.js";

/**
 * Decorates the InvitationApi port: every call becomes a child span (of the job's span) when
 * `tracing` is on, and a latency observation labelled by operation and outcome when there are
 * metrics; throttles are counted. The calls themselves are unchanged; with neither, the port is
 * returned as it is (nothing on the hot path).
 */
export function instrumentApi(
  api: InvitationApi,
  metrics?: Metrics,
  options: { tracing?: boolean } = {},
): InvitationApi {
  if (!metrics && !options.tracing) return api;
  const spanned = <R>(operation: string, fn: (span?: Span) => Promise<R>): Promise<R> =>
    options.tracing
      ? startSpan(operation, fn, {
          "rpc.system": "aws-api",
          "rpc.service": "PartnerCentralAccount",
          "rpc.method": operation,
        })
      : fn();
  const wrap =
    <A extends unknown[], R>(operation: string, call: (...args: A) => Promise<R>) =>
    (...args: A): Promise<R> =>
      spanned(operation, async (span) => {
        const started = performance.now();
        try {
          const result = await call(...args);
          metrics?.observeAwsCall(operation, "success", (performance.now() - started) / 1000);
          return result;
        } catch (err) {
          const kind = classifyError(err).kind;
          metrics?.observeAwsCall(operation, kind, (performance.now() - started) / 1000);
          if (kind === "throttle") metrics?.recordThrottle();
          span?.setAttribute("aws.error_kind", kind);
          throw err;
        }
      });
  return {
    act: (operation, input, callOptions) =>
      wrap(operation, (...args: Parameters<InvitationApi["act"]>) => api.act(...args))(operation, input, callOptions),
    getInvitation: wrap("GetConnectionInvitation", api.getInvitation.bind(api)),
    listInvitations: wrap("ListConnectionInvitations", api.listInvitations.bind(api)),
    getConnection: wrap("GetConnection", api.getConnection.bind(api)),
    listConnections: wrap("ListConnections", api.listConnections.bind(api)),
  };
}
