/**
 * There is no Docker engine where the tests run, so docker-compose.yml, the Dockerfile and
 * .dockerignore are kept correct by reading them against the code they configure.
 */
import { readFileSync, existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { describe, it, expect } from "vitest";
import { parse } from "yaml";
import { configSchema } from "../../src/schemas/config.js";
import { loadConfig } from "../../src/config/load-config.js";
import { emulatorHelp } from "../../src/cli/commands/emulator.js";
import { shutdownPlan } from "../../src/app/shutdown-plan.js";

/** Least time between a worker's hard exit (SHUTDOWN_GRACE_MS after SIGTERM) and Docker's SIGKILL, ms. */
const STOP_MARGIN_MS = 5000;

const root = fileURLToPath(new URL("../../", import.meta.url));
const read = (file: string) => readFileSync(join(root, file), "utf8");

interface Service {
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
  ports?: unknown[];
  profiles?: string[];
}
interface ComposeFile {
  version?: unknown;
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

const composeText = read("docker-compose.yml");
const compose = parse(composeText) as ComposeFile;
const services = compose.services ?? {};
const redis = services.redis as Service;
const worker = services.worker as Service;
const emulator = services.emulator as Service;
const defaults = configSchema.parse({});
const AWS_CREDENTIAL_VARS = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"];

/** Compose accepts both the map and the list form of `environment`; null = pass through from the host. */
function envOf(service: Service): Map<string, string | null> {
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

function commandOf(service: Service): string[] {
  const command = service.command;
  if (command === undefined) return [];
  return Array.isArray(command) ? command.map(String) : command.trim().split(/\s+/);
}

/** A whole-value `${NAME}` or `${NAME:-default}`; the default may not contain braces or `$`. */
const INTERPOLATION = /^\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^{}$]*))?\}$/;

/** Compose duration ("40s", "1m30s", "1500ms") in ms. */
function durationMs(text: string): number {
  const units: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  const re = /(\d+(?:\.\d+)?)(us|ms|s|m|h)/y;
  let total = 0;
  let end = 0;
  let match: RegExpExecArray | null;
  while ((match = re.exec(text)) !== null) {
    total += Number(match[1]) * units[match[2]!]!;
    end = re.lastIndex;
  }
  if (end !== text.length || text.length === 0) throw new Error(`not a compose duration: "${text}"`);
  return total;
}

/** The host-side compose interpolation of the worker's environment, for a given host env. */
function interpolatedWorkerEnv(host: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of envOf(worker)) {
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

/** Command names the CLI dispatches, read from src/cli/main.ts (it runs main() on import). */
function cliCommands(): string[] {
  const source = read("src/cli/main.ts");
  const block = /const commands\b[^\n]*=\s*\{\s*\n([\s\S]*?)\n\};/.exec(source);
  expect(block, "commands table in src/cli/main.ts").not.toBeNull();
  return [...block![1]!.matchAll(/^\s*"?([a-z][a-z-]*)"?:\s*\{\s*run:/gm)].map((m) => m[1]!);
}

describe("docker-compose.yml", () => {
  it("uses the Compose Specification (no version key) and defines redis, worker and emulator", () => {
    expect(compose).not.toHaveProperty("version");
    expect(Object.keys(services)).toEqual(expect.arrayContaining(["redis", "worker", "emulator"]));
  });

  describe("redis", () => {
    it("runs with AOF persistence and noeviction (BullMQ requirement)", () => {
      const command = commandOf(redis).join(" ");
      expect(redis.image).toMatch(/^redis:7/);
      expect(command).toMatch(/^redis-server\b/);
      expect(command).toContain("--appendonly yes");
      expect(command).toContain("--maxmemory-policy noeviction");
    });

    it("keeps /data on a declared named volume", () => {
      const volumes = redis.volumes ?? [];
      const data = volumes
        .map((v) => (typeof v === "string" ? { source: v.split(":")[0], target: v.split(":")[1] } : v))
        .find((v) => v.target === "/data");
      expect(data, "a volume mounted at /data").toBeDefined();
      expect(data!.source).toMatch(/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/); // a named volume, not a host path
      expect(Object.keys(compose.volumes ?? {})).toContain(data!.source);
    });

    it("has a redis-cli ping healthcheck", () => {
      const test = redis.healthcheck?.test;
      expect(test).toBeDefined();
      const text = Array.isArray(test) ? test.join(" ") : String(test);
      expect(text).toMatch(/^(CMD|CMD-SHELL) /);
      expect(text).toContain("redis-cli ping");
    });
  });

  describe("worker", () => {
    it("runs the worker command of the locally built image", () => {
      expect(worker.build).toBeDefined();
      expect(commandOf(worker)).toEqual(["worker"]);
    });

    it("can be scaled: no container_name and no published ports", () => {
      expect(worker).not.toHaveProperty("container_name");
      expect(worker).not.toHaveProperty("ports");
    });

    it("waits for a healthy redis and points REDIS_URL at it", () => {
      expect(worker.depends_on).toEqual(
        expect.objectContaining({ redis: expect.objectContaining({ condition: "service_healthy" }) }),
      );
      const url = new URL(envOf(worker).get("REDIS_URL") ?? "");
      expect(url.protocol).toBe("redis:");
      expect(url.hostname).toBe("redis");
      expect(url.port).toBe("6379");
      expect(worker.restart).toBe("unless-stopped");
    });

    it("sends SIGKILL no sooner than 5 s after SHUTDOWN_GRACE_MS, by which a worker has exited (a hard bound)", () => {
      expect(durationMs("1m30s")).toBe(90_000); // the parser itself
      expect(() => durationMs("40")).toThrow();
      expect(worker.stop_grace_period, "stop_grace_period").toBeDefined();
      const stopGraceMs = durationMs(worker.stop_grace_period!);
      // The process exits by SHUTDOWN_GRACE_MS after SIGTERM (cli/runtime.ts firstSignal's hard exit,
      // every closing step inside it: app/shutdown-plan.ts); the margin is for the exit itself.
      expect(shutdownPlan(defaults.SHUTDOWN_GRACE_MS).closeByMs).toBeLessThan(defaults.SHUTDOWN_GRACE_MS);
      expect(stopGraceMs - defaults.SHUTDOWN_GRACE_MS).toBeGreaterThanOrEqual(STOP_MARGIN_MS);
      // and with the value compose passes by default
      expect(stopGraceMs - Number(interpolatedWorkerEnv({}).SHUTDOWN_GRACE_MS)).toBeGreaterThanOrEqual(STOP_MARGIN_MS);
    });

    it("sets only variables the config reads, plus the standard AWS credential variables", () => {
      const known = new Set([...Object.keys(configSchema.shape), ...AWS_CREDENTIAL_VARS]);
      const names = [...envOf(worker).keys()];
      expect(names.length).toBeGreaterThan(0);
      expect(names.filter((name) => !known.has(name))).toEqual([]);
      for (const name of [
        "WORKER_CONCURRENCY",
        "RATE_LIMIT_RPS",
        "RATE_LIMIT_BURST",
        "JOB_ATTEMPTS",
        "SHUTDOWN_GRACE_MS",
        "LOG_LEVEL",
        "QUEUE_PREFIX",
        "AWS_REGION",
        "PARTNERCENTRAL_ENDPOINT",
      ]) {
        expect(names, name).toContain(name);
      }
    });

    it("passes AWS credentials through from the host without values", () => {
      const env = envOf(worker);
      for (const name of AWS_CREDENTIAL_VARS) {
        expect(env.has(name), name).toBe(true);
        expect(env.get(name), name).toBeNull();
      }
      expect(composeText).not.toMatch(/AKIA[0-9A-Z]{12,}/);
    });

    it("interpolates each tunable from the variable of the same name, with configSchema's default", () => {
      let checked = 0;
      for (const [name, value] of envOf(worker)) {
        if (value === null || !value.includes("$")) continue;
        const m = INTERPOLATION.exec(value);
        expect(m, `${name}: "${value}" must be \${${name}:-default}`).not.toBeNull();
        expect(m![1], `${name} interpolates another variable`).toBe(name);
        const fallback = m![2];
        if (fallback === undefined || fallback === "") continue;
        expect(name in configSchema.shape, `${name} has no configSchema default`).toBe(true);
        expect(fallback, `${name} default`).toBe(String(defaults[name as keyof typeof defaults]));
        checked++;
      }
      expect(checked).toBeGreaterThanOrEqual(6);
      // biome-ignore lint/suspicious/noTemplateCurlyInString: compose's own interpolation, read as text
      expect(envOf(worker).get("PARTNERCENTRAL_ENDPOINT")).toBe("${PARTNERCENTRAL_ENDPOINT:-}");
    });

    it("yields the config defaults (with the compose REDIS_URL) when the host sets nothing", () => {
      const config = loadConfig(interpolatedWorkerEnv({}));
      expect(config).toEqual({ ...defaults, REDIS_URL: "redis://redis:6379" });
      expect(config.PARTNERCENTRAL_ENDPOINT).toBeUndefined();
    });

    it("lets the host override the tunables", () => {
      const config = loadConfig(
        interpolatedWorkerEnv({
          QUEUE_PREFIX: "{custom}",
          WORKER_CONCURRENCY: "9",
          PARTNERCENTRAL_ENDPOINT: "http://emulator:4566",
        }),
      );
      expect(config.QUEUE_PREFIX).toBe("{custom}");
      expect(config.WORKER_CONCURRENCY).toBe(9);
      expect(config.PARTNERCENTRAL_ENDPOINT).toBe("http://emulator:4566");
    });
  });

  describe("api", () => {
    const api = services.api as Service;
    it("runs serve under the api profile, on Redis, with tokens passed through from the host", () => {
      expect(commandOf(api)).toEqual(["serve"]);
      expect(api.profiles).toEqual(["api"]);
      const env = envOf(api);
      expect(new URL(env.get("REDIS_URL") ?? "").hostname).toBe("redis");
      expect(env.has("HTTP_AUTH_TOKENS")).toBe(true);
      expect(env.get("HTTP_AUTH_TOKENS") ?? "").toBe("");
      for (const name of env.keys()) expect(Object.keys(configSchema.shape), name).toContain(name);
      expect(api.ports).toEqual([`${env.get("HTTP_PORT")}:${env.get("HTTP_PORT")}`]);
      expect(api.depends_on).toEqual(
        expect.objectContaining({ redis: expect.objectContaining({ condition: "service_healthy" }) }),
      );
    });

    it("has a healthcheck on its own /healthz, on the port it listens on, with the image's Node", () => {
      const test = api.healthcheck?.test;
      expect(Array.isArray(test)).toBe(true);
      const [kind, program, flag, script] = test as string[];
      expect([kind, program, flag]).toEqual(["CMD", "node", "-e"]);
      expect(script).toContain(`http://127.0.0.1:${envOf(api).get("HTTP_PORT")}/healthz`);
      expect(script).toMatch(/process\.exit\(r\.ok \? 0 : 1\)/);
      expect(durationMs(api.healthcheck!.timeout!)).toBeLessThan(durationMs(api.healthcheck!.interval!));
    });
  });

  describe("emulator", () => {
    it("only runs under the emulator profile and listens on all interfaces on its published port", () => {
      expect(emulator.profiles).toEqual(["emulator"]);
      expect(emulator.build).toEqual(worker.build);
      const command = commandOf(emulator);
      expect(command[0]).toBe("emulator");
      const flag = (name: string) => command[command.indexOf(name) + 1];
      expect(command).toContain("--port");
      expect(flag("--host")).toBe("0.0.0.0");
      const ports = (emulator.ports ?? []).map(String);
      expect(ports).toContain(`${flag("--port")}:${flag("--port")}`);
      for (const option of command.filter((arg) => arg.startsWith("--")))
        expect(emulatorHelp, option).toContain(`[${option}`);
      // --seed 0 is a usage error
      if (command.includes("--seed")) expect(Number(flag("--seed"))).toBeGreaterThanOrEqual(1);
    });

    it("is what the usage example at the top points workers at", () => {
      const port = commandOf(emulator)[commandOf(emulator).indexOf("--port") + 1];
      expect(composeText).toContain(`PARTNERCENTRAL_ENDPOINT=http://emulator:${port}`);
      expect(composeText).toContain("docker compose --profile emulator up");
      expect(composeText).toMatch(/docker compose up -d --scale worker=\d+/);
    });
  });

  it("only runs commands the CLI knows", () => {
    const commands = cliCommands();
    expect(commands).toEqual(expect.arrayContaining(["worker", "emulator"]));
    for (const [name, service] of Object.entries(services)) {
      if (service.build === undefined) continue;
      const command = commandOf(service);
      expect(command.length, `${name} command`).toBeGreaterThan(0);
      expect(commands, `${name} command`).toContain(command[0]);
    }
  });
});

describe("Dockerfile", () => {
  const dockerfile = read("Dockerfile");
  const instructions = dockerfile
    .replace(/\\\r?\n/g, " ")
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"));
  const stages: string[][] = [];
  for (const line of instructions) {
    if (/^FROM\s/i.test(line)) stages.push([line]);
    else stages.at(-1)?.push(line);
  }
  const runtime = stages.at(-1) ?? [];
  const jsonArg = (keyword: string): string[] => {
    const line = runtime.filter((l) => l.toUpperCase().startsWith(`${keyword} `)).at(-1);
    expect(line, keyword).toBeDefined();
    return JSON.parse(line!.slice(keyword.length).trim()) as string[];
  };

  it("is multi-stage on node:24-bookworm-slim", () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const stage of stages) expect(stage[0]).toMatch(/^FROM\s+node:24-bookworm-slim\b/i);
    const build = stages[0]!.join("\n");
    expect(build).toMatch(/npm ci\b/);
    expect(build).toMatch(/npm run build|tsc -p tsconfig\.build\.json/);
  });

  it("runtime stage: production deps without scripts, dist from the build stage, non-root, production", () => {
    const text = runtime.join("\n");
    expect(text).toMatch(/npm ci\b(?=.*--omit=dev)(?=.*--ignore-scripts)/);
    // The image runs on its base image's Node: package.json's Node 24 binaries (optional
    // dependencies, for hosts whose Node is older) stay out of it.
    expect(text).toMatch(/npm ci\b.*--omit=optional/);
    expect(text).not.toMatch(/npm run build|\btsc\b/);
    const buildName = /\bAS\s+(\S+)/i.exec(stages[0]![0]!)?.[1];
    expect(text).toMatch(new RegExp(`COPY\\s+--from=${buildName}\\s+\\S*dist\\S*\\s`));
    expect(runtime.filter((l) => /^USER\s/i.test(l)).at(-1)).toMatch(/^USER\s+node$/i);
    expect(text).toMatch(/^ENV\s+NODE_ENV[= ]production$/m);
  });

  it("ENTRYPOINT runs package.json's bin target, which tsc builds from src/cli/main.ts", () => {
    const pkg = JSON.parse(read("package.json")) as { bin: Record<string, string> };
    const bin = pkg.bin["pc-invitations"];
    expect(bin).toBeDefined();
    const entrypoint = jsonArg("ENTRYPOINT");
    expect(entrypoint[0]).toBe("node");
    expect(entrypoint[1]).toBe(bin!.replace(/^\.\//, ""));
    // tsconfig.build.json: rootDir ".", outDir "dist" → dist/src/cli/main.js comes from src/cli/main.ts
    expect(existsSync(join(root, entrypoint[1]!.replace(/^dist\//, "").replace(/\.js$/, ".ts")))).toBe(true);
  });

  it("HEALTHCHECK runs the CLI's healthcheck on the heartbeat file the runtime stage configures", () => {
    const line = runtime.find((l) => /^HEALTHCHECK\s/i.test(l));
    expect(line).toBeDefined();
    const cmd = JSON.parse(line!.slice(line!.indexOf("CMD") + 3).trim()) as string[];
    const entrypoint = jsonArg("ENTRYPOINT");
    expect(cmd).toEqual([...entrypoint, "healthcheck"]);
    expect(cliCommands()).toContain("healthcheck");
    expect(runtime.join("\n")).toMatch(/^ENV\s+HEALTH_FILE[= ]\/tmp\/\S+$/m);
    expect(Object.keys(configSchema.shape)).toContain("HEALTH_FILE");
  });

  it("CMD defaults to the worker command", () => {
    expect(jsonArg("CMD")).toEqual(["worker"]);
    expect(cliCommands()).toContain("worker");
  });
});

describe(".dockerignore", () => {
  const patterns = read(".dockerignore")
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"));

  it("keeps host builds, VCS data and secrets out of the build context", () => {
    expect(patterns).toEqual(expect.arrayContaining(["node_modules", "dist", ".git", ".env"]));
  });

  it("does not exclude what the build needs", () => {
    for (const needed of ["src", "package.json", "package-lock.json", "tsconfig.json", "tsconfig.build.json"]) {
      expect(patterns, needed).not.toContain(needed);
    }
  });
});
