/**
 * The logger's last line of defence (observability/logger.ts, scrubLogValue): fields named like
 * secrets are logged as "[redacted]", at any depth, in the fields of a call, of a child's
 * bindings and of a logged error. Lines go to a captured stream.
 */
import { describe, expect, it } from "vitest";
import { createLogger } from "../../src/observability/logger.js";

/** The names the README and docs/guarantees.md promise, each with a value that must never appear. */
const SECRETS = {
  secretAccessKey: "wJalrXUtnFEMI-secret-access-key",
  sessionToken: "FwoGZXIvYXdzE-session-token",
  accessKeyId: "AKIA-access-key-id",
  authorization: "Bearer lowercase-bearer-token",
  Authorization: "Bearer capitalised-bearer-token",
  credentials: "credentials-as-a-string",
  password: "redis-password-hunter2",
  redisUrl: "redis-url-value",
};
const NAMES = Object.keys(SECRETS) as Array<keyof typeof SECRETS>;

function captured() {
  const lines: string[] = [];
  const logger = createLogger({
    level: "debug",
    name: "redact-test",
    destination: { write: (s: string) => void lines.push(s) },
  });
  const parsed = () => lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  return { logger, lines, parsed };
}

const redactedAll = Object.fromEntries(NAMES.map((n) => [n, "[redacted]"]));

function expectNoSecret(text: string): void {
  for (const value of Object.values(SECRETS)) expect(text).not.toContain(value);
  // What is left of the URL and token values must not leak either.
  expect(text).not.toMatch(/hunter2|wJalr|FwoGZ|AKIA-/);
}

describe("the logger redacts fields named like secrets", () => {
  it("at the top level of a line, whatever the level", () => {
    const { logger, lines, parsed } = captured();
    logger.info({ ...SECRETS, jobId: "job-1" }, "with every secret field");
    logger.error({ ...SECRETS }, "again at error");
    logger.debug({ password: SECRETS.password }, "and at debug");
    expect(lines).toHaveLength(3);
    const [info, error, debug] = parsed();
    expect(info).toMatchObject({ ...redactedAll, jobId: "job-1", msg: "with every secret field" });
    expect(error).toMatchObject(redactedAll);
    expect(debug).toMatchObject({ password: "[redacted]" });
    expectNoSecret(lines.join(""));
  });

  it("one level down: an AWS credentials object, request headers, a config", () => {
    const { logger, lines, parsed } = captured();
    logger.warn(
      {
        aws: {
          accessKeyId: SECRETS.accessKeyId,
          secretAccessKey: SECRETS.secretAccessKey,
          sessionToken: SECRETS.sessionToken,
          region: "us-east-1",
        },
        headers: {
          authorization: SECRETS.authorization,
          Authorization: SECRETS.Authorization,
          "content-type": "application/json",
        },
        config: { redisUrl: SECRETS.redisUrl, password: SECRETS.password, queue: "accept-invitation" },
        sdk: { credentials: { accessKeyId: SECRETS.accessKeyId, secretAccessKey: SECRETS.secretAccessKey } },
      },
      "nested",
    );
    const [line] = parsed();
    expect(line).toMatchObject({
      aws: {
        accessKeyId: "[redacted]",
        secretAccessKey: "[redacted]",
        sessionToken: "[redacted]",
        region: "us-east-1",
      },
      headers: { authorization: "[redacted]", Authorization: "[redacted]", "content-type": "application/json" },
      config: { redisUrl: "[redacted]", password: "[redacted]", queue: "accept-invitation" },
      sdk: { credentials: "[redacted]" },
    });
    expectNoSecret(lines.join(""));
  });

  it("deeper down: two and more levels, inside arrays, in an error's cause", () => {
    const { logger, lines, parsed } = captured();
    logger.error(
      {
        deploy: { target: { aws: { secretAccessKey: SECRETS.secretAccessKey, region: "eu-west-1" } } },
        attempts: [{ request: { headers: { authorization: SECRETS.authorization } } }],
        err: new Error("outer", {
          cause: Object.assign(new Error("inner"), { detail: { password: SECRETS.password } }),
        }),
      },
      "deep",
    );
    const [line] = parsed();
    expect(line).toMatchObject({
      deploy: { target: { aws: { secretAccessKey: "[redacted]", region: "eu-west-1" } } },
      attempts: [{ request: { headers: { authorization: "[redacted]" } } }],
      err: { message: "outer", cause: { message: "inner", detail: { password: "[redacted]" } } },
    });
    expectNoSecret(lines.join(""));
  });

  it("in a child logger's bindings and in the fields of a logged error", () => {
    const { logger, lines, parsed } = captured();
    const child = logger.child({ redisUrl: SECRETS.redisUrl, aws: { sessionToken: SECRETS.sessionToken } });
    child.error(
      {
        err: Object.assign(new Error("Redis refused"), {
          password: SECRETS.password,
          authorization: SECRETS.authorization,
        }),
      },
      "failed",
    );
    const [line] = parsed();
    expect(line).toMatchObject({
      redisUrl: "[redacted]",
      aws: { sessionToken: "[redacted]" },
      err: { message: "Redis refused", password: "[redacted]", authorization: "[redacted]" },
      msg: "failed",
    });
    // A child's child: its own bindings too, and the parent's still there.
    child.child({ job: { credentials: { accessKeyId: SECRETS.accessKeyId } }, jobId: "j-2" }).warn("grandchild");
    expect(parsed()[1]).toMatchObject({
      redisUrl: "[redacted]",
      job: { credentials: "[redacted]" },
      jobId: "j-2",
      msg: "grandchild",
    });
    expectNoSecret(lines.join(""));
  });
});
