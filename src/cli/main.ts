#!/usr/bin/env node
import {
  CancelValidationError,
  ConfigError,
  ListQueryError,
  PcInvitationsError,
  PolicyValidationError,
  RedisAuthError,
  RedisFullError,
  RedisUnavailableError,
} from "../errors/index.js";
import { toRedisError } from "../store/redis/connection.js";
import { UsageError } from "./args.js";
import { cancelCommand, cancelHelp } from "./commands/cancel.js";
import { demoCommand, demoHelp } from "./commands/demo.js";
import { discoverCommand, discoverHelp } from "./commands/discover.js";
import { emulatorCommand, emulatorHelp } from "./commands/emulator.js";
import { enqueueCommand, enqueueHelp } from "./commands/enqueue.js";
import { limitsCommand, limitsHelp } from "./commands/limits.js";
import { exportSchemasCommand, exportSchemasHelp } from "./commands/export-schemas.js";
import { healthcheckCommand, healthcheckHelp } from "./commands/healthcheck.js";
import { outcomesCommand, outcomesHelp } from "./commands/outcomes.js";
import { redriveCommand, redriveHelp } from "./commands/redrive.js";
import { serveCommand, serveHelp } from "./commands/serve.js";
import { statusCommand, statusHelp } from "./commands/status.js";
import { workerCommand, workerHelp } from "./commands/worker.js";
import { packageVersion } from "./version.js";
import { stdoutClosed } from "./runtime.js";

const commands: Record<string, { run: (argv: string[]) => Promise<number>; help: string }> = {
  enqueue: { run: enqueueCommand, help: enqueueHelp },
  discover: { run: discoverCommand, help: discoverHelp },
  cancel: { run: cancelCommand, help: cancelHelp },
  redrive: { run: redriveCommand, help: redriveHelp },
  worker: { run: workerCommand, help: workerHelp },
  serve: { run: serveCommand, help: serveHelp },
  outcomes: { run: outcomesCommand, help: outcomesHelp },
  limits: { run: limitsCommand, help: limitsHelp },
  status: { run: statusCommand, help: statusHelp },
  emulator: { run: emulatorCommand, help: emulatorHelp },
  demo: { run: demoCommand, help: demoHelp },
  "export-schemas": { run: exportSchemasCommand, help: exportSchemasHelp },
  healthcheck: { run: healthcheckCommand, help: healthcheckHelp },
};

const usage = `pc-invitations: accept (or reject) AWS Partner Central connection invitations at scale

Usage: pc-invitations <command> [options]      pc-invitations <command> --help
       pc-invitations --version

Commands:
${Object.values(commands)
  .map((c) => `  ${c.help.split("\n")[0]!.replace(/^pc-invitations /, "")}`)
  .join("\n")}

Configuration is read from environment variables; see the README for the full table.

${Object.values(commands)
  .map((c) => c.help)
  .join("\n\n")}`;

async function main(argv: string[]): Promise<number> {
  // A reader that goes away (`… | head -1`) is no crash: see stdoutClosed.
  void stdoutClosed();
  const [name, ...rest] = argv;
  if (name === "--version" || name === "-V" || name === "version") {
    process.stdout.write(`pc-invitations ${packageVersion()} (node ${process.version})\n`);
    return 0;
  }
  if (!name || name === "--help" || name === "-h" || name === "help") {
    process.stdout.write(`${usage}\n`);
    return name ? 0 : 2;
  }
  const command = commands[name];
  if (!command) {
    process.stderr.write(`unknown command "${name}"\n\n${usage}\n`);
    return 2;
  }
  if (rest.includes("--help") || rest.includes("-h")) {
    process.stdout.write(`${command.help}\n`);
    return 0;
  }
  try {
    return await command.run(rest);
  } catch (thrown) {
    // A Redis reply that means "full" or "wrong password", from wherever it came, gets its own line.
    const err = thrown instanceof PcInvitationsError ? thrown : (toRedisError(thrown) ?? thrown);
    if (err instanceof UsageError) {
      process.stderr.write(`pc-invitations ${name}: ${err.message}\n\n${command.help}\n`);
      return 2;
    }
    if (err instanceof RedisUnavailableError) {
      process.stderr.write(
        `pc-invitations: ${err.message}. Start one with \`redis-server\` ` +
          `(or \`docker compose up -d redis\`) or set REDIS_URL.\n`,
      );
      return 3;
    }
    if (err instanceof RedisAuthError) {
      process.stderr.write(`pc-invitations ${name}: ${err.message}; check the credentials in REDIS_URL.\n`);
      return 3;
    }
    if (err instanceof RedisFullError) {
      const again = name === "enqueue" ? "run it again (lines already enqueued count as duplicates)" : "run it again";
      process.stderr.write(
        `pc-invitations ${name}: ${err.message}. Free memory (consume outcomes, ` +
          `lower RETENTION_SECONDS) or raise maxmemory, then ${again}.\n`,
      );
      return 4;
    }
    // Refused arguments the library checks itself: one line naming the field and the rule.
    if (err instanceof PolicyValidationError || err instanceof CancelValidationError || err instanceof ListQueryError) {
      process.stderr.write(`pc-invitations ${name}: ${err.message}\n`);
      return 2;
    }
    if (err instanceof ConfigError) {
      process.stderr.write(
        `pc-invitations: invalid configuration:\n${err.issues.map((i) => `  ${i.field}: ${i.rule}`).join("\n")}\n`,
      );
      return 2;
    }
    if (err instanceof PcInvitationsError) {
      process.stderr.write(`pc-invitations ${name}: ${err.message}\n`);
      return 1;
    }
    process.stderr.write(`pc-invitations ${name}: ${(err as Error)?.stack ?? String(err)}\n`);
    return 1;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    // Give stdout a moment to flush, then leave even if a library left a handle open.
    setTimeout(() => process.exit(code), 50).unref();
  },
  (err) => {
    process.stderr.write(`${String(err)}\n`);
    process.exit(1);
  },
);
