/**
 * docker-compose.yml read as Compose reads it, for tests that cannot run Docker: YAML merge keys
 * (`<<: *anchor`) resolved, `environment` in either form, `${NAME:-default}` interpolation, the
 * services a set of `--profile`s starts, and the published ports.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";

export interface Service {
  image?: string;
  build?: unknown;
  command?: string | string[];
  environment?: Record<string, string | number | boolean | null> | string[];
  volumes?: Array<string | { type?: string; source?: string; target?: string }>;
  healthcheck?: { test?: string | string[]; interval?: string; timeout?: string };
  depends_on?: string[] | Record<string, { condition?: string }>;
  stop_grace_period?: string;
  restart?: string;
  container_name?: string;
  ports?: Array<string | number | { target?: number; published?: string | number; host_ip?: string }>;
  profiles?: string[];
  configs?: Array<string | { source: string; target?: string }>;
}
export interface ComposeFile {
  version?: unknown;
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
  configs?: Record<string, { content?: string; file?: string }>;
}

export const composePath = fileURLToPath(new URL("../../docker-compose.yml", import.meta.url));
export const composeText = readFileSync(composePath, "utf8");
/** Compose resolves YAML merge keys; so does this parse. */
export const compose = parse(composeText, { merge: true }) as ComposeFile;

/** Compose accepts both the map and the list form of `environment`; null = pass through from the host. */
export function envOf(service: Service): Map<string, string | null> {
  const env = new Map<string, string | null>();
  const raw = service.environment ?? {};
  if (Array.isArray(raw)) {
    for (const entry of raw) {
      const eq = entry.indexOf("=");
      if (eq === -1) env.set(entry, null);
      else env.set(entry.slice(0, eq), entry.slice(eq + 1));
    }
  } else {
    for (const [key, value] of Object.entries(raw))
      env.set(key, value === null || value === undefined ? null : String(value));
  }
  return env;
}

export function commandOf(service: Service): string[] {
  const command = service.command;
  if (command === undefined) return [];
  return Array.isArray(command) ? command.map(String) : command.trim().split(/\s+/);
}

/** A whole-value `${NAME}` or `${NAME:-default}`; the default may not contain braces or `$`. */
export const INTERPOLATION = /^\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^{}$]*))?\}$/;

/** What a service's process sees: compose's interpolation of its environment for a given host env. */
export function interpolatedEnv(service: Service, host: Record<string, string> = {}): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of envOf(service)) {
    if (value === null) {
      if (host[key] !== undefined) out[key] = host[key];
      continue;
    }
    const m = INTERPOLATION.exec(value);
    if (!m) out[key] = value;
    else out[key] = host[m[1]!] !== undefined && host[m[1]!] !== "" ? host[m[1]!]! : (m[2] ?? "");
  }
  return out;
}

/** The services `docker compose [--profile p ...] up` starts: those without profiles, and those of p. */
export function startedBy(profiles: string[]): string[] {
  return Object.entries(compose.services)
    .filter(([, s]) => s.profiles === undefined || s.profiles.some((p) => profiles.includes(p)))
    .map(([name]) => name);
}

export interface PublishedPort {
  hostIp: string | undefined;
  hostPort: number;
  containerPort: number;
}

/** `ports` in the short ("[ip:]host:container") and the long form. */
export function publishedPorts(service: Service): PublishedPort[] {
  return (service.ports ?? []).map((entry) => {
    if (typeof entry === "object")
      return { hostIp: entry.host_ip, hostPort: Number(entry.published), containerPort: Number(entry.target) };
    const parts = String(entry).split(":");
    const containerPort = Number(parts.pop());
    const hostPort = parts.length > 0 ? Number(parts.pop()) : Number.NaN;
    return { hostIp: parts.length > 0 ? parts.join(":") : undefined, hostPort, containerPort };
  });
}

/** `--name value` of a command. */
export function flagOf(command: string[], name: string): string | undefined {
  const i = command.indexOf(name);
  return i === -1 ? undefined : command[i + 1];
}
