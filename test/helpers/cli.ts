import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

/** The built CLI (npm test builds first), run exactly as users run `pc-invitations`. */
export const CLI = fileURLToPath(new URL("../../dist/src/cli/main.js", import.meta.url));

/**
 * Bound on waiting for a started process (CLI or fixture) to come up: listen, log "worker
 * started", pick up a job. Beside CPU hogs on 2 cores one start took 14 s, so 10-20 s bounds
 * failed. It is a bound, not a wait: a test goes on as soon as the process is up. A test that
 * waits on it must allow for it in its own timeout.
 */
export const PROCESS_START_MS = 60_000;

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliProcess {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<CliRun>;
}

const BASE_ENV = {
  PATH: process.env.PATH ?? "",
  HOME: process.env.HOME ?? "/tmp",
  AWS_ACCESS_KEY_ID: "AKIDTEST",
  AWS_SECRET_ACCESS_KEY: "test-secret-not-real",
  // Keep the host's AWS config out of tests.
  AWS_CONFIG_FILE: "/dev/null",
  AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
};

export function startCli(args: string[], env: Record<string, string> = {}, input?: string): CliProcess {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { ...BASE_ENV, ...env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (err += d));
  if (input !== undefined) child.stdin!.end(input);
  else child.stdin!.end();
  const exited = new Promise<CliRun>((resolve) =>
    child.on("close", (code, signal) => resolve({ code, signal, stdout: out, stderr: err })),
  );
  return { child, stdout: () => out, stderr: () => err, exited };
}

/**
 * Starts the CLI with `args` and sends it SIGTERM from the output's own event the moment its
 * stderr matches `ready` (as close to the line as a supervisor gets, not a poll). Resolves with
 * whether the signal was sent and how the process ended; SIGKILL after PROCESS_START_MS + 30 s.
 */
export async function sigtermOnReadyLine(
  args: string[],
  env: Record<string, string>,
  ready: RegExp,
): Promise<{
  sent: boolean;
  code: number | null | undefined;
  signal: NodeJS.Signals | null | undefined;
  stderr: string | undefined;
}> {
  const p = startCli(args, env);
  let sent = false;
  p.child.stderr!.on("data", () => {
    if (!sent && ready.test(p.stderr())) {
      sent = true;
      p.child.kill("SIGTERM");
    }
  });
  let timer: NodeJS.Timeout | undefined;
  const run = await Promise.race([
    p.exited,
    new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), PROCESS_START_MS + 30_000))),
  ]);
  clearTimeout(timer);
  if (!run) p.child.kill("SIGKILL");
  return { sent, code: run?.code, signal: run?.signal, stderr: run?.stderr };
}

/** Test timeout for `starts` calls of sigtermOnReadyLine in a row. */
export const sigtermTestTimeout = (starts: number) => starts * (PROCESS_START_MS + 30_000) + 30_000;

export async function runCli(
  args: string[],
  env: Record<string, string> = {},
  input?: string,
  timeoutMs = 30_000,
): Promise<CliRun> {
  const p = startCli(args, env, input);
  const timer = setTimeout(() => p.child.kill("SIGKILL"), timeoutMs);
  try {
    return await p.exited;
  } finally {
    clearTimeout(timer);
  }
}

/** SIGTERM (graceful) unless the process already ended; resolves with how it ended. */
export async function stopCli(p: CliProcess): Promise<CliRun> {
  if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill("SIGTERM");
  return p.exited;
}

/** Any command, stdout and stderr interleaved into `output` (as a terminal shows them). */
export async function runCommand(
  file: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  timeoutMs = 60_000,
): Promise<{ code: number | null; output: string }> {
  const child = spawn(file, args, { env, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout!.on("data", (d) => (output += d));
  child.stderr!.on("data", (d) => (output += d));
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  try {
    const code = await new Promise<number | null>((resolve) => child.on("close", (c) => resolve(c)));
    return { code, output };
  } finally {
    clearTimeout(timer);
  }
}
