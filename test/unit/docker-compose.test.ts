/**
 * There is no Docker engine where the tests run, so docker-compose.yml, the Dockerfile and
 * .dockerignore are kept correct by reading them against the code they configure
 * (test/e2e/compose-emulator.test.ts runs the emulator profile's commands as processes).
 */
import { readFileSync, existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { describe, it, expect } from "vitest";
import { parse } from "yaml";
import { configSchema } from "../../src/schemas/config.js";
import { discoveryPolicySchema } from "../../src/schemas/policy.js";
import { loadConfig } from "../../src/config/load-config.js";
import { emulator as emulatorCommand } from "../../src/cli/commands/emulator.js";
import { commands as cliCommandList } from "../../src/cli/commands/index.js";
import { shutdownPlan } from "../../src/app/shutdown-plan.js";
import {
  commandOf,
  compose,
  composeText,
  envOf,
  flagOf,
  INTERPOLATION,
  interpolatedEnv,
  publishedPorts,
  startedBy,
  type Service,
} from "../helpers/compose.js";

/** Least time between a worker's hard exit (SHUTDOWN_GRACE_MS after SIGTERM) and Docker's SIGKILL, ms. */
const STOP_MARGIN_MS = 5000;

const root = fileURLToPath(new URL("../../", import.meta.url));
const read = (file: string) => readFileSync(join(root, file), "utf8");

const services = compose.services ?? {};
const service = (name: string): Service => {
  expect(services[name], `service ${name}`).toBeDefined();
  return services[name]!;
};
const redis = service("redis");
const emulator = service("emulator");
const defaults = configSchema.parse({});
const AWS_CREDENTIAL_VARS = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"];
/** Commands that call Partner Central (serve: POST /v1/discoveries). */
const CALLS_PARTNER_CENTRAL = ["worker", "serve", "discover"];
/** The header's header: the comment block before the first key. */
const header = composeText.slice(0, composeText.search(/^[a-z]/m));
/** Every combination of profiles a command in the header starts. */
const HEADER_PROFILES: string[][] = [[], ["emulator"], ["aws"], ["aws", "api"]];
/** What a host may have set: none of it may reach a service of the emulator profile. */
const HOST_AWS = {
  AWS_ACCESS_KEY_ID: "AKIAHOSTHOSTHOSTHOST",
  AWS_SECRET_ACCESS_KEY: "host-secret",
  AWS_SESSION_TOKEN: "host-session",
  AWS_PROFILE: "host-profile",
  PARTNERCENTRAL_ENDPOINT: "https://partnercentral-account.example.aws",
};

/** Command names the CLI dispatches, read from src/cli/main.ts (it runs main() on import). */
function cliCommands(): string[] {
  return cliCommandList.map((c) => c.name);
}

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

/** The services of a set of profiles that call Partner Central. */
function callers(profiles: string[]): Array<[string, Service]> {
  return startedBy(profiles)
    .map((name) => [name, services[name]!] as [string, Service])
    .filter(([, s]) => s.build !== undefined && CALLS_PARTNER_CENTRAL.includes(commandOf(s)[0] ?? ""));
}

describe("docker-compose.yml", () => {
  it("uses the Compose Specification (no version key); its header gives a command per profile", () => {
    expect(compose).not.toHaveProperty("version");
    expect(Object.keys(services)).toEqual(
      expect.arrayContaining(["redis", "worker", "api", "emulator", "emulator-worker", "emulator-discover"]),
    );
    expect(header).toContain("docker compose --profile emulator up\n");
    expect(header).toMatch(/docker compose --profile aws up -d --scale worker=\d+/);
    expect(header).toContain("docker compose --profile aws --profile api up -d");
    expect(header).toContain("docker compose up -d redis");
    // Every profile a service has is one the header explains.
    const profiles = new Set(Object.values(services).flatMap((s) => s.profiles ?? []));
    expect([...profiles].sort()).toEqual(["api", "aws", "emulator", "history"]);
    expect(header).toContain("docker compose --profile history up -d postgres");
  });

  it("publishes every port on 127.0.0.1 only", () => {
    const published = Object.entries(services).flatMap(([name, s]) => publishedPorts(s).map((p) => ({ name, ...p })));
    expect(published.length).toBeGreaterThanOrEqual(4);
    for (const port of published) expect(port.hostIp, `${port.name} ${port.hostPort}`).toBe("127.0.0.1");
  });

  it.each(HEADER_PROFILES.map((p) => [p.map((name) => `--profile ${name}`).join(" ") || "no --profile", p] as const))(
    "publishes no host port twice among what `up` with %s starts",
    (_, profiles) => {
      const ports = startedBy(profiles).flatMap((name) => publishedPorts(services[name]!).map((p) => p.hostPort));
      expect(ports.length).toBeGreaterThan(0);
      expect(new Set(ports).size).toBe(ports.length);
    },
  );

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

    it("is what the no-Redis hint starts: `docker compose up -d redis` gives a Redis at REDIS_URL's default", () => {
      // src/cli/errors.ts prints the hint (npm start without Redis, every command; the printed line is
      // checked by test/e2e/compose-emulator.test.ts); README repeats it.
      expect(read("src/cli/errors.ts")).toMatch(/docker compose up -d redis\b/);
      expect(read("README.md")).toContain("`docker compose up -d redis`");
      expect(redis.profiles, "a service with a profile is not started by `up` alone").toBeUndefined();
      const url = new URL(defaults.REDIS_URL);
      expect(publishedPorts(redis)).toEqual([
        { hostIp: url.hostname, hostPort: Number(url.port), containerPort: Number(url.port) },
      ]);
    });
  });

  describe("--profile emulator: the whole system against the seeded emulator", () => {
    it("starts Redis, the emulator, a worker, a discovery and the API, and nothing that targets AWS", () => {
      const started = startedBy(["emulator"]);
      expect(started).toEqual(
        expect.arrayContaining(["redis", "emulator", "emulator-worker", "emulator-discover", "emulator-api"]),
      );
      expect(started).not.toContain("worker");
      expect(started).not.toContain("api");
      expect(
        callers(["emulator"])
          .map(([, s]) => commandOf(s)[0])
          .sort(),
      ).toEqual(["discover", "serve", "worker"]);
    });

    it("runs the emulator seeded, on all interfaces of its container, on the port it publishes on 127.0.0.1", () => {
      expect(emulator.profiles).toEqual(["emulator"]);
      expect(emulator.build).toEqual(services.worker!.build);
      const command = commandOf(emulator);
      expect(command[0]).toBe("emulator");
      expect(flagOf(command, "--host")).toBe("0.0.0.0");
      const port = Number(flagOf(command, "--port"));
      expect(publishedPorts(emulator)).toEqual([{ hostIp: "127.0.0.1", hostPort: port, containerPort: port }]);
      expect(Number(flagOf(command, "--seed"))).toBeGreaterThanOrEqual(1);
      for (const option of command.filter((arg) => arg.startsWith("--")))
        expect(Object.keys(emulatorCommand.options ?? {}), option).toContain(option.slice(2));
    });

    it("points each service calling Partner Central at the emulator, static credentials, whatever the host has", () => {
      const port = flagOf(commandOf(emulator), "--port");
      for (const [name, s] of callers(["emulator"])) {
        const env = interpolatedEnv(s, HOST_AWS);
        expect(env.PARTNERCENTRAL_ENDPOINT, name).toBe(`http://emulator:${port}`);
        expect(env.AWS_ACCESS_KEY_ID, name).toMatch(/^\S+$/);
        expect(env.AWS_SECRET_ACCESS_KEY, name).toMatch(/^\S+$/);
        expect(env.AWS_ACCESS_KEY_ID, name).not.toBe(HOST_AWS.AWS_ACCESS_KEY_ID);
        expect(env, name).not.toHaveProperty("AWS_SESSION_TOKEN");
        expect(env, name).not.toHaveProperty("AWS_PROFILE");
        expect(loadConfig(env).PARTNERCENTRAL_ENDPOINT, name).toBe(`http://emulator:${port}`);
      }
    });

    it("discovers once, after the emulator has seeded, with a policy that accepts every invitation", () => {
      const discover = service("emulator-discover");
      const command = commandOf(discover);
      expect(command.slice(0, 3)).toEqual(["discover", "--catalog", "AWS"]);
      expect(command).not.toContain("--every");
      expect(discover.restart).toBe("no");
      const policyPath = flagOf(command, "--policy");
      const mount = (discover.configs ?? []).find((c) => typeof c === "object" && c.target === policyPath);
      expect(mount, `a config mounted at ${policyPath}`).toBeDefined();
      const content = compose.configs?.[(mount as { source: string }).source]?.content;
      expect(content).toBeDefined();
      expect(discoveryPolicySchema.parse(parse(content!))).toEqual({ default: "accept", rules: [] });
      // Healthy = the heartbeat the emulator starts once its invitations exist (cli/commands/emulator.ts).
      expect(discover.depends_on).toEqual(expect.objectContaining({ emulator: { condition: "service_healthy" } }));
      expect(emulator.healthcheck, "the image's HEALTHCHECK (the heartbeat)").toBeUndefined();
    });

    it("serves the API with the token the header shows", () => {
      const env = interpolatedEnv(service("emulator-api"));
      const config = loadConfig(env);
      expect(config.HTTP_AUTH_TOKENS).toHaveLength(1);
      expect(header).toContain(`Bearer ${config.HTTP_AUTH_TOKENS![0]}`);
    });
  });

  describe("--profile aws (--profile api): against AWS", () => {
    it("starts the worker (and the API), and nothing of the emulator's", () => {
      const started = startedBy(["aws", "api"]);
      expect(started).toEqual(expect.arrayContaining(["redis", "worker", "api"]));
      expect(started.filter((name) => name.startsWith("emulator"))).toEqual([]);
      expect(
        callers(["aws", "api"])
          .map(([name]) => name)
          .sort(),
      ).toEqual(["api", "worker"]);
    });

    it("uses the real endpoint and passes AWS credentials through from the host without values", () => {
      for (const [name, s] of callers(["aws", "api"])) {
        const env = envOf(s);
        for (const variable of AWS_CREDENTIAL_VARS) {
          expect(env.has(variable), `${name} ${variable}`).toBe(true);
          expect(env.get(variable), `${name} ${variable}`).toBeNull();
        }
        // biome-ignore lint/suspicious/noTemplateCurlyInString: compose's own interpolation, read as text
        expect(env.get("PARTNERCENTRAL_ENDPOINT"), name).toBe("${PARTNERCENTRAL_ENDPOINT:-}");
        expect(loadConfig(interpolatedEnv(s, { HTTP_AUTH_TOKENS: "t".repeat(16) })).PARTNERCENTRAL_ENDPOINT).toBe(
          undefined,
        );
        expect(interpolatedEnv(s, HOST_AWS).AWS_PROFILE, name).toBe(HOST_AWS.AWS_PROFILE);
      }
      expect(composeText).not.toMatch(/AKIA[0-9A-Z]{12,}/);
    });
  });

  describe.each(["worker", "emulator-worker"])("%s", (name) => {
    const worker = service(name);
    const aws = (services.worker!.profiles ?? []).some((p) => (worker.profiles ?? []).includes(p));

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
      expect(stopGraceMs - Number(interpolatedEnv(worker).SHUTDOWN_GRACE_MS)).toBeGreaterThanOrEqual(STOP_MARGIN_MS);
    });

    it("sets only variables the config reads, plus the standard AWS credential variables", () => {
      const known = new Set([...Object.keys(configSchema.shape), ...AWS_CREDENTIAL_VARS]);
      const names = [...envOf(worker).keys()];
      expect(names.length).toBeGreaterThan(0);
      expect(names.filter((n) => !known.has(n))).toEqual([]);
      for (const variable of [
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
        expect(names, variable).toContain(variable);
      }
    });

    it("interpolates each tunable from the variable of the same name, with configSchema's default", () => {
      let checked = 0;
      for (const [variable, value] of envOf(worker)) {
        if (value === null || !value.includes("$")) continue;
        const m = INTERPOLATION.exec(value);
        expect(m, `${variable}: "${value}" must be \${${variable}:-default}`).not.toBeNull();
        expect(m![1], `${variable} interpolates another variable`).toBe(variable);
        const fallback = m![2];
        if (fallback === undefined || fallback === "") continue;
        expect(variable in configSchema.shape, `${variable} has no configSchema default`).toBe(true);
        expect(fallback, `${variable} default`).toBe(String(defaults[variable as keyof typeof defaults]));
        checked++;
      }
      expect(checked).toBeGreaterThanOrEqual(5);
    });

    it("yields the config defaults (with the compose REDIS_URL, and its target) when the host sets nothing", () => {
      const config = loadConfig(interpolatedEnv(worker));
      const target = aws ? {} : { PARTNERCENTRAL_ENDPOINT: config.PARTNERCENTRAL_ENDPOINT };
      expect(config).toEqual({ ...defaults, REDIS_URL: "redis://redis:6379", ...target });
      if (aws) expect(config.PARTNERCENTRAL_ENDPOINT).toBeUndefined();
    });

    it("lets the host override the tunables", () => {
      const config = loadConfig(interpolatedEnv(worker, { QUEUE_PREFIX: "{custom}", WORKER_CONCURRENCY: "9" }));
      expect(config.QUEUE_PREFIX).toBe("{custom}");
      expect(config.WORKER_CONCURRENCY).toBe(9);
    });
  });

  describe.each(["api", "emulator-api"])("%s", (name) => {
    const api = service(name);
    it("runs serve on Redis, on the port it publishes on 127.0.0.1, after a healthy Redis", () => {
      expect(commandOf(api)).toEqual(["serve"]);
      const env = envOf(api);
      expect(new URL(env.get("REDIS_URL") ?? "").hostname).toBe("redis");
      expect(env.has("HTTP_AUTH_TOKENS")).toBe(true);
      const known = new Set([...Object.keys(configSchema.shape), ...AWS_CREDENTIAL_VARS]);
      for (const variable of env.keys()) expect(known, variable).toContain(variable);
      const port = Number(env.get("HTTP_PORT"));
      expect(publishedPorts(api)).toEqual([{ hostIp: "127.0.0.1", hostPort: port, containerPort: port }]);
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

  it("the API against AWS takes its tokens from the host only", () => {
    expect(envOf(service("api")).get("HTTP_AUTH_TOKENS")).toBeNull();
    expect(service("api").profiles).toEqual(["api"]);
  });

  describe("postgres (--profile history): the history's database", () => {
    const postgres = service("postgres");
    const historyEnv = (compose as unknown as Record<string, Record<string, string>>)["x-history-env"]!;
    it("runs PostgreSQL 15 on a named volume, published on 127.0.0.1 only, with a pg_isready healthcheck", () => {
      expect(postgres.image).toMatch(/^postgres:15/);
      expect(publishedPorts(postgres).map((p) => `${p.hostIp}:${p.hostPort}`)).toEqual(["127.0.0.1:5432"]);
      expect(JSON.stringify(postgres.healthcheck?.test)).toContain("pg_isready");
      expect(JSON.stringify(postgres.volumes)).toContain("postgres-data:/var/lib/postgresql/data");
      expect(compose.volumes).toHaveProperty("postgres-data");
    });
    it("gives deliver a DATABASE_URL the config accepts, naming this service, its user and database", () => {
      const env = postgres.environment as Record<string, string>;
      const url = new URL(historyEnv.DATABASE_URL!);
      expect(url.hostname).toBe("postgres");
      expect(url.username).toBe(env.POSTGRES_USER);
      expect(url.password).toBe(env.POSTGRES_PASSWORD);
      expect(url.pathname).toBe(`/${env.POSTGRES_DB}`);
      expect(loadConfig({ DATABASE_URL: historyEnv.DATABASE_URL, HISTORY_RETENTION_DAYS: "" }).DATABASE_URL).toBe(
        historyEnv.DATABASE_URL,
      );
      expect(historyEnv.HISTORY_RETENTION_DAYS).toBe(["$", "{HISTORY_RETENTION_DAYS:-}"].join(""));
    });
  });

  it("only runs commands the CLI knows", () => {
    const commands = cliCommands();
    expect(commands).toEqual(expect.arrayContaining(["worker", "emulator", "serve", "discover"]));
    for (const [name, s] of Object.entries(services)) {
      if (s.build === undefined) continue;
      const command = commandOf(s);
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

  it("is multi-stage on node:26-bookworm-slim, the major .nvmrc names", () => {
    expect(read(".nvmrc").trim()).toBe("26");
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const stage of stages) expect(stage[0]).toMatch(/^FROM\s+node:26-bookworm-slim\b/i);
    const build = stages[0]!.join("\n");
    expect(build).toMatch(/npm ci\b/);
    expect(build).toMatch(/npm run build|tsc -p tsconfig\.build\.json/);
  });

  it("runtime stage: production deps without scripts, dist from the build stage, non-root, production", () => {
    const text = runtime.join("\n");
    expect(text).toMatch(/npm ci\b(?=.*--omit=dev)(?=.*--ignore-scripts)/);
    // The image runs on its base image's Node: package.json's Node 26 binaries (optional
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
