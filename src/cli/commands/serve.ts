import { startServer } from "../../app/serve.js";
import { buildOpenApiDocument } from "../../http/openapi.js";
import { defineCommand } from "../define-command.js";
import { firstSignal, prepareRuntime } from "../runtime.js";

const details = `Usage:
  pc-invitations serve                  listen on HTTP_HOST:HTTP_PORT (default 0.0.0.0:8080)
  pc-invitations serve --print-openapi  print the OpenAPI 3.1 document and exit

Needs HTTP_AUTH_TOKENS (comma-separated bearer tokens); without it, serve refuses to start unless
HTTP_AUTH_DISABLED=true. Also reads REDIS_URL, QUEUE_PREFIX, REQUESTS_QUEUE, OUTCOMES_QUEUE,
JOB_ATTEMPTS, BACKOFF_*, RETENTION_SECONDS, HTTP_* and OTEL_EXPORTER_OTLP_ENDPOINT (see README).
POST /v1/discoveries calls Partner Central: AWS credentials (standard chain), AWS_REGION,
PARTNERCENTRAL_ENDPOINT (the emulator) and RATE_LIMIT_* (the shared limit), as a worker.
Endpoints: docs/http-api.md. SIGTERM/SIGINT: stop accepting, finish in-flight requests (a discovery in
flight is stopped: 503 SHUTTING_DOWN), exit 0 within SHUTDOWN_GRACE_MS whatever Redis does (6 when
closing did not finish by then).`;

export const serve = defineCommand({
  name: "serve",
  summary: "run the HTTP API (enqueue, status, cancel, discover, redrive, metrics, dashboard)",
  options: { "print-openapi": { type: "boolean", description: "print the OpenAPI 3.1 document and exit" } },
  details,
  run: ({ values }) => serveCommand(values["print-openapi"] === true),
});

async function serveCommand(printOpenApi: boolean): Promise<number> {
  if (printOpenApi) {
    process.stdout.write(`${JSON.stringify(buildOpenApiDocument(), null, 2)}\n`);
    return 0;
  }
  // Listening before "listening" is logged: a SIGTERM sent on that line must stop it cleanly.
  const signalled = firstSignal();
  const { config, logger } = await prepareRuntime("serve");
  const server = await startServer(config, logger);
  const signal = await signalled;
  logger.info({ signal }, "shutting down: no new connections, finishing in-flight requests");
  try {
    // Closing waits on Redis (the queues' handles, the producer): one that is down, stopped or
    // refusing the password is cut off at the end of the grace period by firstSignal's forced exit.
    await server.close();
    return 0;
  } catch (err) {
    logger.error({ err }, "shutdown failed");
    return 1;
  }
}
