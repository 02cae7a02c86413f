import { configSchema, type Config } from "../schemas/config.js";
import { toFieldIssues } from "../schemas/issues.js";
import { ConfigError } from "../errors/index.js";

/**
 * Parses the environment once. Empty strings count as unset, so `FOO=` in a compose file
 * falls back to the default instead of failing.
 * @throws ConfigError naming every bad variable and the rule it broke.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Record<string, unknown> = {}): Config {
  const input: Record<string, unknown> = {};
  for (const key of Object.keys(configSchema.shape)) {
    const value = env[key];
    if (value !== undefined && value !== "") input[key] = value;
  }
  const parsed = configSchema.safeParse({ ...input, ...overrides });
  if (!parsed.success) throw new ConfigError(toFieldIssues(parsed.error));
  return Object.freeze(parsed.data);
}

export { redactUrl } from "./redact.js";
