/**
 * Our Redis errors keep Redis's reply as their cause, never what was sent with it: ioredis hangs
 * the command and its arguments on a ReplyError (`command`), and a MULTI's EXECABORT the
 * earlier replies (`previousErrors`), which carry request payloads and the AUTH password.
 * A library user who logs `err.cause` (not through our scrubbing logger) must see none of it.
 */
import { describe, expect, it } from "vitest";
import { RedisAuthError, RedisFullError } from "../../src/errors/index.js";

const oom = Object.assign(new Error("OOM command not allowed when used memory > 'maxmemory'."), {
  command: { name: "hset", args: ["pc:req:1", "payload", '{"crm":"secret-opportunity"}'] },
});
const execAbort = Object.assign(new Error("EXECABORT Transaction discarded because of previous errors."), {
  previousErrors: [oom],
});
const wrongPass = Object.assign(new Error("WRONGPASS invalid username-password pair"), {
  command: { name: "hello", args: ["3", "AUTH", "default", "hunter2"] },
});

describe("the causes of our Redis errors", () => {
  it.each([
    ["RedisFullError, OOM", () => new RedisFullError("redis://h:6379", { cause: oom }), /^OOM/],
    ["RedisFullError, EXECABORT", () => new RedisFullError(undefined, { cause: execAbort }), /^EXECABORT/],
    [
      "RedisAuthError",
      () => new RedisAuthError("redis://h", "default", "wrong-password", { cause: wrongPass }),
      /^WRONGPASS/,
    ],
  ])("%s keeps the reply's message, not the command's arguments", (_, make, message) => {
    const err = make();
    expect((err.cause as Error).message).toMatch(message);
    expect(err.cause).not.toHaveProperty("command");
    expect(err.cause).not.toHaveProperty("previousErrors");
    const seen = JSON.stringify(err.cause, Object.getOwnPropertyNames(err.cause as object));
    expect(seen).not.toContain("secret-opportunity");
    expect(seen).not.toContain("hunter2");
  });
});
