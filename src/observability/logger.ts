import { pino, type Logger } from "pino";

export type { Logger };

/**
 * Structured JSON logs on stderr (stdout is kept for data: NDJSON outcomes, summaries).
 * Redaction is a second line of defence: nothing secret is logged on purpose.
 */
export function createLogger(options: { level?: string; name?: string } = {}): Logger {
  return pino(
    {
      name: options.name ?? "pc-invitations",
      level: options.level ?? "info",
      redact: {
        paths: [
          "*.secretAccessKey", "*.sessionToken", "*.accessKeyId", "*.authorization", "*.Authorization",
          "credentials", "*.credentials", "*.password", "redisUrl", "*.redisUrl",
        ],
        censor: "[redacted]",
      },
    },
    pino.destination({ dest: 2, sync: false }),
  );
}
