import { describe, expect, it } from "vitest";
import { UsageError } from "../../src/cli/args.js";
import { CONFIRM_ABOVE, confirmChange, NotConfirmedError } from "../../src/cli/confirm.js";

const terminal = (answer: string, asked: string[] = []) => ({
  interactive: true,
  ask: async (q: string) => {
    asked.push(q);
    return answer;
  },
});
const pipe = { interactive: false, ask: async () => "y" };

describe("confirmChange (more than 10 requests changed)", () => {
  it("goes on without asking up to CONFIRM_ABOVE, or with --yes", async () => {
    const asked: string[] = [];
    await confirmChange("redrive 10 failed request(s)", CONFIRM_ABOVE, false, terminal("n", asked));
    await confirmChange("redrive 11 failed request(s)", 11, true, pipe);
    expect(asked).toEqual([]);
  });

  it("asks on a terminal: y or yes goes on, anything else is NotConfirmedError", async () => {
    const asked: string[] = [];
    await confirmChange("redrive 11 failed request(s)", 11, false, terminal("yes", asked));
    expect(asked).toEqual(["Redrive 11 failed request(s)? [y/N] "]);
    await confirmChange("redrive 11 failed request(s)", 11, false, terminal(" Y "));
    for (const answer of ["", "n", "no", "yess"])
      await expect(confirmChange("redrive 11", 11, false, terminal(answer))).rejects.toBeInstanceOf(NotConfirmedError);
  });

  it("off a terminal, without --yes: a usage error that says to pass --yes", async () => {
    const err = await confirmChange("redrive 50003 failed request(s)", 50_003, false, pipe).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toBe(
      "this would redrive 50003 failed request(s) (more than 10): pass --yes to go ahead " +
        "(or --dry-run to list them first, --limit N to take fewer)",
    );
  });
});
