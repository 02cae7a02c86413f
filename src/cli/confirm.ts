import { createInterface } from "node:readline/promises";
import { UsageError } from "./args.js";

/** A command that would change more requests than this asks first (docs/cli.md, "Confirmation"). */
export const CONFIRM_ABOVE = 10;

/** The answer was not yes: nothing was changed (exit 1). */
export class NotConfirmedError extends Error {
  override readonly name = "NotConfirmedError";
}

export interface ConfirmIo {
  /** Whether a person can answer: stdin and stderr are terminals. */
  interactive: boolean;
  /** Asks on stderr, resolves with the line typed. */
  ask(question: string): Promise<string>;
}

/** The terminal of this process: asks on stderr, reads a line from stdin. */
export function terminalIo(): ConfirmIo {
  return {
    interactive: process.stdin.isTTY === true && process.stderr.isTTY === true,
    async ask(question) {
      const rl = createInterface({ input: process.stdin, output: process.stderr });
      try {
        return await rl.question(question);
      } finally {
        rl.close();
      }
    },
  };
}

/**
 * Goes on when `count` ≤ CONFIRM_ABOVE or `yes` (--yes) is given; otherwise asks on a terminal
 * ("redrive 50003 failed requests? [y/N]": y or yes goes on, anything else throws
 * NotConfirmedError) and, without a terminal, throws a UsageError saying to pass --yes (exit 2).
 * `action`: what would be done, as a verb phrase ("redrive 50003 failed requests").
 */
export async function confirmChange(
  action: string,
  count: number,
  yes: boolean,
  io: ConfirmIo = terminalIo(),
): Promise<void> {
  if (count <= CONFIRM_ABOVE || yes) return;
  if (!io.interactive)
    throw new UsageError(
      `this would ${action} (more than ${CONFIRM_ABOVE}): pass --yes to go ahead ` +
        "(or --dry-run to list them first, --limit N to take fewer)",
    );
  const answer = await io.ask(`${action[0]!.toUpperCase()}${action.slice(1)}? [y/N] `);
  if (!/^\s*y(es)?\s*$/i.test(answer)) throw new NotConfirmedError("not confirmed: nothing was changed");
}
