import { z } from "zod";
import { RequestValidationError } from "../errors/index.js";
import {
  accessNameSchema,
  passwordSchema,
  roleSchema,
  scopesSchema,
  type Role,
  type Scope,
} from "../schemas/access.js";
import { toFieldIssues } from "../schemas/issues.js";
import type { Config } from "../schemas/config.js";
import { type AccessStore, describeToken, describeUser } from "../store/access-store.js";
import { hashPassword, newToken, secretDigest } from "../store/access-secrets.js";
import type { RedisConnection } from "../store/redis/connection.js";
import { createRedisAccessStore } from "../store/redis/access.js";

/**
 * The access model's management (`pc-invitations tokens …`, `users …`): what the CLI commands
 * call, with the same rules (schemas/access.ts) as the console's forms.
 */

/** The access store of a deployment, under its queue prefix. */
export function accessStoreFromConfig(config: Pick<Config, "QUEUE_PREFIX">, redis: RedisConnection): AccessStore {
  return createRedisAccessStore({ redis, prefix: config.QUEUE_PREFIX });
}

const tokenInputSchema = z.strictObject({ name: accessNameSchema, scopes: scopesSchema });
const userInputSchema = z.strictObject({ name: accessNameSchema, role: roleSchema, password: passwordSchema });

function parse<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) throw new RequestValidationError(toFieldIssues(parsed.error));
  return parsed.data;
}

/**
 * A new named token: its secret is returned here once and never again (only its digest is kept).
 * @throws RequestValidationError (name, scopes), AccessNameTakenError
 */
export async function addToken(
  store: AccessStore,
  input: { name: string; scopes: readonly string[] },
): Promise<{ name: string; scopes: Scope[]; createdAt: string; token: string }> {
  const { name, scopes } = parse(tokenInputSchema, { name: input.name, scopes: [...input.scopes] });
  const token = newToken();
  const stored = { name, scopes, digest: secretDigest(token), createdAt: new Date().toISOString() };
  await store.addToken(stored);
  return { ...describeToken(stored), token };
}

export async function listTokens(store: AccessStore) {
  return (await store.listTokens()).map(describeToken);
}

/** @throws RequestValidationError (name) */
export async function removeToken(store: AccessStore, name: string): Promise<{ name: string; removed: boolean }> {
  const valid = parse(accessNameSchema, name);
  return { name: valid, removed: await store.removeToken(valid) };
}

/**
 * A new person; the password is kept only as its scrypt hash.
 * @throws RequestValidationError (name, role, password), AccessNameTakenError
 */
export async function addUser(
  store: AccessStore,
  input: { name: string; role: string; password: string },
): Promise<{ name: string; role: Role; createdAt: string }> {
  const { name, role, password } = parse(userInputSchema, input);
  const stored = { name, role, passwordHash: await hashPassword(password), createdAt: new Date().toISOString() };
  await store.addUser(stored);
  return describeUser(stored);
}

export async function listUsers(store: AccessStore) {
  return (await store.listUsers()).map(describeUser);
}

/** @throws RequestValidationError (name) */
export async function removeUser(store: AccessStore, name: string): Promise<{ name: string; removed: boolean }> {
  const valid = parse(accessNameSchema, name);
  return { name: valid, removed: await store.removeUser(valid) };
}
