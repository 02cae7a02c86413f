/**
 * `docker compose --profile emulator up`, without Docker: the commands and environments of the
 * emulator profile's services, read from docker-compose.yml, run as CLI processes on this machine.
 * Only what a container network changes is translated: the hosts `redis` and `emulator` become this
 * machine's Redis (under a prefix of the test's own) and the emulator's real address, ports are
 * free ones, and the API listens on 127.0.0.1. The heartbeat file is the one the image's HEALTHCHECK
 * reads (Dockerfile `ENV HEALTH_FILE`), read by the same `healthcheck` command.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { PROCESS_START_MS, runCli, startCli, stopCli, type CliProcess } from "../helpers/cli.js";
import { commandOf, compose, flagOf, interpolatedEnv, publishedPorts, type Service } from "../helpers/compose.js";
import { freePort } from "../helpers/net.js";
import { waitForOutcomes } from "../helpers/outcomes.js";
import { deletePrefix, newRedis, REDIS_URL, uniquePrefix } from "../helpers/redis.js";
import { waitFor } from "../helpers/wait.js";

const redis = newRedis();
const dir = mkdtempSync(join(tmpdir(), "pci-compose-"));
afterAll(() => {
  redis.disconnect();
  rmSync(dir, { recursive: true, force: true });
});

const service = (name: string): Service => {
  const s = compose.services[name];
  expect(s, `service ${name}`).toBeDefined();
  return s!;
};

describe("docker compose --profile emulator up, its commands run as processes", () => {
  it(
    "seeds the emulator, discovers and accepts every invitation through it, and serves the API against it",
    async () => {
      const prefix = uniquePrefix("compose");
      const emulatorPort = flagOf(commandOf(service("emulator")), "--port");
      let emulatorUrl = "";
      /** A service's environment as compose gives it (nothing set on the host), across this machine's network. */
      const envOf = (name: string, extra: Record<string, string> = {}): Record<string, string> => {
        const env = interpolatedEnv(service(name));
        if (env.REDIS_URL !== undefined) {
          expect(env.REDIS_URL, name).toBe("redis://redis:6379");
          env.REDIS_URL = REDIS_URL;
        }
        if (env.PARTNERCENTRAL_ENDPOINT !== undefined) {
          expect(env.PARTNERCENTRAL_ENDPOINT, name).toBe(`http://emulator:${emulatorPort}`);
          env.PARTNERCENTRAL_ENDPOINT = emulatorUrl;
        }
        return { ...env, QUEUE_PREFIX: prefix, ...extra };
      };
      const running: CliProcess[] = [];
      const healthFile = join(dir, "emulator.health");
      try {
        // emulator: listening, then seeded, then healthy (the heartbeat), on the port compose gives it.
        const emulatorCommand = commandOf(service("emulator"));
        const seeds = Number(flagOf(emulatorCommand, "--seed"));
        expect(seeds).toBeGreaterThanOrEqual(1);
        const args = [...emulatorCommand];
        args[args.indexOf("--port") + 1] = String(await freePort());
        args[args.indexOf("--host") + 1] = "127.0.0.1";
        const emulator = startCli(args, { HEALTH_FILE: healthFile });
        running.push(emulator);
        await waitFor(
          async () => (await runCli(["healthcheck"], { HEALTH_FILE: healthFile })).code === 0,
          PROCESS_START_MS,
          "the emulator's HEALTHCHECK to pass",
        );
        emulatorUrl = /listening on (http:\/\/\S+)/.exec(emulator.stderr())![1]!;
        // Healthy means seeded: emulator-discover starts then (depends_on: service_healthy).
        const seeded = emulator
          .stdout()
          .trim()
          .split("\n")
          .map((line) => JSON.parse(line) as { catalog: string; identifier: string });
        expect(seeded).toHaveLength(seeds);

        // emulator-discover: once, with the policy compose mounts.
        const discoverCommand = commandOf(service("emulator-discover"));
        const policyPath = flagOf(discoverCommand, "--policy")!;
        const mount = service("emulator-discover").configs!.find(
          (c) => typeof c === "object" && c.target === policyPath,
        ) as { source: string };
        const policyFile = join(dir, "policy.yaml");
        writeFileSync(policyFile, compose.configs![mount.source]!.content!);
        const discoverArgs = [...discoverCommand];
        discoverArgs[discoverArgs.indexOf("--policy") + 1] = policyFile;
        const discovered = await runCli(discoverArgs, envOf("emulator-discover"), undefined, PROCESS_START_MS);
        expect(discovered.code, discovered.stderr).toBe(0);
        expect(discovered.stdout).toContain(
          `found ${seeds} pending invitation(s) in AWS; enqueued ${seeds} accept, 0 reject`,
        );

        // emulator-worker: accepts each through the emulator.
        running.push(startCli(commandOf(service("emulator-worker")), envOf("emulator-worker")));
        const outcomes = await waitForOutcomes(redis, prefix, seeds, { timeoutMs: PROCESS_START_MS + 30_000 });
        expect(outcomes.map((o) => o.type)).toEqual(seeded.map(() => "accepted"));
        expect(outcomes.map((o) => o.identifier).sort()).toEqual(seeded.map((s) => s.identifier).sort());

        // emulator-api: the header's discovery, with the token compose gives it, reaches the emulator.
        const apiPort = await freePort();
        const apiEnv = envOf("emulator-api", { HTTP_PORT: String(apiPort), HTTP_HOST: "127.0.0.1" });
        running.push(startCli(commandOf(service("emulator-api")), apiEnv));
        const base = `http://127.0.0.1:${apiPort}`;
        await waitFor(
          async () => (await fetch(`${base}/healthz`).catch(() => undefined))?.ok,
          PROCESS_START_MS,
          "the API to listen",
        );
        const res = await fetch(`${base}/v1/discoveries`, {
          method: "POST",
          headers: { authorization: `Bearer ${apiEnv.HTTP_AUTH_TOKENS}`, "content-type": "application/json" },
          body: JSON.stringify({ catalogs: ["AWS"] }),
        });
        // Every seeded invitation is accepted by now: the emulator lists none pending.
        expect({ status: res.status, body: await res.json() }).toMatchObject({
          status: 200,
          body: { found: 0, calls: { list: 1 } },
        });

        // The header's way to see the outcome events: outcomes --drain with emulator-worker's environment.
        const drained = await runCli(["outcomes", "--drain"], envOf("emulator-worker"), undefined, PROCESS_START_MS);
        expect(drained.code, drained.stderr).toBe(0);
        expect(drained.stdout.trim().split("\n")).toHaveLength(seeds);
      } finally {
        for (const p of running.reverse()) {
          const run = await stopCli(p);
          expect(run.code, run.stderr).toBe(0);
        }
        await deletePrefix(redis, prefix);
      }
    },
    4 * PROCESS_START_MS + 60_000,
  );

  it("the CLI's no-Redis hint names a compose command that starts Redis where REDIS_URL's default points", async () => {
    const port = await freePort();
    const r = await runCli(["demo"], { REDIS_URL: `redis://127.0.0.1:${port}` });
    expect(r.code).toBe(3);
    const hint = /`docker compose up -d ([a-z-]+)`/.exec(r.stderr);
    expect(hint, r.stderr).not.toBeNull();
    const redisService = service(hint![1]!);
    expect(redisService.image).toMatch(/^redis:/);
    expect(redisService.profiles).toBeUndefined();
    // The default REDIS_URL, the one `npm start` uses when nothing is set.
    const { configSchema } = await import("../../src/schemas/config.js");
    const url = new URL(configSchema.parse({}).REDIS_URL);
    expect(publishedPorts(redisService)).toContainEqual({
      hostIp: url.hostname,
      hostPort: Number(url.port),
      containerPort: 6379,
    });
  });
});
