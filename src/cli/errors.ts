import {
  CancelValidationError,
  ConfigError,
  ListQueryError,
  PcInvitationsError,
  PolicyValidationError,
  RedisAuthError,
  RedisFullError,
  RedisUnavailableError,
} from "../errors/index.js";
import { toRedisError } from "../store/redis/connection.js";
import { UsageError } from "./args.js";
import { NotConfirmedError } from "./confirm.js";

/** Exit code of a usage error: an unknown command or option, a missing or malformed argument. */
export const USAGE_EXIT = 2;

/** The hint that ends every usage error. */
export function helpHint(path: string): string {
  return `Run 'pc-invitations ${path ? `${path} ` : ""}--help' for usage.`;
}

/**
 * The error in one line, then the hint: `pc-invitations enqueue: <message>` and
 * `Run 'pc-invitations enqueue --help' for usage.` (never the whole help again).
 */
export function usageLine(path: string, message: string): string {
  const text = message.trim().replace(/\s*\n\s*/g, " ");
  return `pc-invitations${path ? ` ${path}` : ""}: ${text}\n${helpHint(path)}\n`;
}

/**
 * What an error that ended a command prints on stderr, and the exit code (docs/cli.md, "Exit codes").
 * Never a stack trace for an error we know; one line naming what to do.
 */
export function reportError(path: string, thrown: unknown): number {
  // A Redis reply that means "full" or "wrong password", from wherever it came, gets its own line.
  const err = thrown instanceof PcInvitationsError ? thrown : (toRedisError(thrown) ?? thrown);
  const write = (text: string) => process.stderr.write(text);
  if (err instanceof NotConfirmedError) {
    write(`pc-invitations ${path}: ${err.message}\n`);
    return 1;
  }
  if (err instanceof UsageError) {
    write(usageLine(path, err.message));
    return USAGE_EXIT;
  }
  if (err instanceof RedisUnavailableError) {
    write(
      `pc-invitations: ${err.message}. Start one with \`redis-server\` ` +
        `(or \`docker compose up -d redis\`) or set REDIS_URL.\n`,
    );
    return 3;
  }
  if (err instanceof RedisAuthError) {
    write(`pc-invitations ${path}: ${err.message}; check the credentials in REDIS_URL.\n`);
    return 3;
  }
  if (err instanceof RedisFullError) {
    const again = path === "enqueue" ? "run it again (lines already enqueued count as duplicates)" : "run it again";
    write(
      `pc-invitations ${path}: ${err.message}. Free memory (consume outcomes, ` +
        `lower RETENTION_SECONDS) or raise maxmemory, then ${again}.\n`,
    );
    return 4;
  }
  // Refused arguments the library checks itself: one line naming the field and the rule.
  if (err instanceof PolicyValidationError || err instanceof CancelValidationError || err instanceof ListQueryError) {
    write(`pc-invitations ${path}: ${err.message}\n`);
    return USAGE_EXIT;
  }
  if (err instanceof ConfigError) {
    write(`pc-invitations: invalid configuration:\n${err.issues.map((i) => `  ${i.field}: ${i.rule}`).join("\n")}\n`);
    return USAGE_EXIT;
  }
  if (err instanceof PcInvitationsError) {
    write(`pc-invitations ${path}: ${err.message}\n`);
    return 1;
  }
  write(`pc-invitations ${path}: ${(err as Error)?.stack ?? String(err)}\n`);
  return 1;
}
