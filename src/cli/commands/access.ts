import {
  accessStoreFromConfig,
  addToken,
  addUser,
  listTokens,
  listUsers,
  removeToken,
  removeUser,
} from "../../app/access.js";
import { RequestValidationError } from "../../errors/index.js";
import type { AccessStore } from "../../store/access-store.js";
import { createRedis } from "../../store/redis/connection.js";
import { formatFieldIssues } from "../../schemas/issues.js";
import { UsageError } from "../args.js";
import { defineCommand, defineGroup, type OutputFormat } from "../define-command.js";
import { prepareRuntime } from "../runtime.js";

/**
 * `pc-invitations tokens …` and `users …`: the access model (docs/console.md). A token is shown
 * once, when it is made; only its digest is kept. A password is read from standard input and kept
 * only as its scrypt hash.
 */

async function withAccess<T>(name: string, writes: boolean, work: (access: AccessStore) => Promise<T>): Promise<T> {
  const { config } = await prepareRuntime(name, { writes });
  const redis = createRedis(config.REDIS_URL, { cluster: config.REDIS_CLUSTER });
  try {
    return await work(accessStoreFromConfig(config, redis));
  } catch (err) {
    // The rules broken, named by the flag or argument that carries them.
    if (err instanceof RequestValidationError) throw new UsageError(formatFieldIssues(err.issues));
    throw err;
  } finally {
    await redis.quit().catch(() => redis.disconnect());
  }
}

function print(output: OutputFormat, value: unknown, rows?: Array<Record<string, unknown>>): void {
  if (output === "table" && rows) {
    const cols = rows.length > 0 ? Object.keys(rows[0]!) : [];
    const cell = (v: unknown) => (Array.isArray(v) ? v.join(",") : String(v ?? ""));
    const widths = cols.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
    const line = (vals: string[]) => `${vals.map((v, i) => v.padEnd(widths[i]!)).join("  ")}`.trimEnd();
    process.stdout.write(
      rows.length === 0
        ? "(none)\n"
        : `${[line(cols.map((c) => c.toUpperCase())), ...rows.map((r) => line(cols.map((c) => cell(r[c]))))].join("\n")}\n`,
    );
    return;
  }
  if (output === "ndjson" && rows) {
    for (const r of rows) process.stdout.write(`${JSON.stringify(r)}\n`);
    return;
  }
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

const tokensAdd = defineCommand({
  name: "add",
  summary: "make a named token with its scopes; it is printed once and never again",
  args: ["<name>"],
  options: {
    scope: {
      type: "string",
      multiple: true,
      description: "enqueue, read, decide, control or admin (repeat, or comma-separate)",
      valueName: "SCOPE",
    },
  },
  details: `Scopes: enqueue (POST /v1/acceptances, /v1/discoveries), read (GET /v1/…), decide (POST /v1/held/…/decision),
control (cancel, redrive), admin (the console and /admin/queues). Example:
  pc-invitations tokens add ci-enqueue --scope enqueue --scope read`,
  output: { formats: ["json", "table"], tty: "table", piped: "json" },
  run: async ({ values, positionals, output }) => {
    const scopes = (values.scope ?? [])
      .flatMap((s) => s.split(","))
      .map((s) => s.trim())
      .filter((s) => s !== "");
    if (scopes.length === 0)
      throw new UsageError("say what the token may do: --scope enqueue|read|decide|control|admin");
    const made = await withAccess("tokens", true, (access) => addToken(access, { name: positionals[0] ?? "", scopes }));
    if (output === "table")
      process.stdout.write(
        `token ${made.name} (${made.scopes.join(", ")}):\n${made.token}\nShown once: store it now (only its digest is kept).\n`,
      );
    else print(output, made);
    return 0;
  },
});

const tokensList = defineCommand({
  name: "list",
  summary: "the named tokens (names, scopes, when made; never a token)",
  output: { tty: "table", piped: "json" },
  run: async ({ output }) => {
    const tokens = await withAccess("tokens", false, listTokens);
    print(output, tokens, tokens);
    return 0;
  },
});

const tokensRemove = defineCommand({
  name: "remove",
  summary: "remove a named token (it stops working within 5 s)",
  args: ["<name>"],
  output: { formats: ["json"], tty: "json", piped: "json" },
  run: async ({ positionals }) => {
    const result = await withAccess("tokens", true, (access) => removeToken(access, positionals[0] ?? ""));
    print("json", result);
    return result.removed ? 0 : 1;
  },
});

export const tokens = defineGroup({
  name: "tokens",
  summary: "named, scoped tokens for machines (add, list, remove)",
  commands: [tokensAdd, tokensList, tokensRemove],
});

/** The password from standard input: its first line (a trailing newline is not part of it). */
async function readPassword(): Promise<string> {
  if (process.stdin.isTTY) process.stderr.write("Password (then Enter, Ctrl-D): ");
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin) {
    chunks.push(chunk as Buffer);
    size += (chunk as Buffer).length;
    if (size > 64 * 1024) throw new UsageError("the password on standard input is longer than 64 KiB");
  }
  const text = Buffer.concat(chunks).toString("utf8");
  return text.split(/\r?\n/)[0] ?? "";
}

const usersAdd = defineCommand({
  name: "add",
  summary: "add a person who logs into the console; the password is read from standard input",
  args: ["<name>"],
  options: {
    role: { type: "string", description: "viewer (reads) or operator (also decides and changes)", valueName: "ROLE" },
  },
  details: `Example:
  printf '%s\\n' "$PASSWORD" | pc-invitations users add alice --role operator
The password (at least 12 characters) is kept only as a slow hash (scrypt).`,
  output: { formats: ["json", "table"], tty: "table", piped: "json" },
  run: async ({ values, positionals, output }) => {
    if (!values.role) throw new UsageError("say the person's role: --role viewer|operator");
    const password = await readPassword();
    const user = await withAccess("users", true, (access) =>
      addUser(access, { name: positionals[0] ?? "", role: values.role ?? "", password }),
    );
    print(output, user, [user]);
    return 0;
  },
});

const usersList = defineCommand({
  name: "list",
  summary: "the people who may log into the console, and their roles",
  output: { tty: "table", piped: "json" },
  run: async ({ output }) => {
    const users = await withAccess("users", false, listUsers);
    print(output, users, users);
    return 0;
  },
});

const usersRemove = defineCommand({
  name: "remove",
  summary: "remove a person (their sessions end at once)",
  args: ["<name>"],
  output: { formats: ["json"], tty: "json", piped: "json" },
  run: async ({ positionals }) => {
    const result = await withAccess("users", true, (access) => removeUser(access, positionals[0] ?? ""));
    print("json", result);
    return result.removed ? 0 : 1;
  },
});

export const users = defineGroup({
  name: "users",
  summary: "people who log into the console, as viewer or operator (add, list, remove)",
  commands: [usersAdd, usersList, usersRemove],
});
