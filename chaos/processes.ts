/**
 * The processes of a chaos run: each child's stdout is NDJSON data for the harness (acks,
 * deliveries), its stderr goes to a log file in the run's temp dir.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream } from "node:fs";

export interface Child {
  name: string;
  proc: ChildProcess;
  /** Every JSON line the child printed on stdout, in order. */
  lines: Array<Record<string, unknown>>;
  /** Called for each JSON line from now on. */
  onLine(fn: (line: Record<string, unknown>) => void): void;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  alive(): boolean;
  /** Sends an IPC message (children started with ipc). */
  send(message: unknown): void;
  /** SIGTERM, then SIGKILL after graceMs; resolves when it is gone. */
  stop(graceMs?: number): Promise<void>;
}

export function spawnChild(name: string, args: string[], env: NodeJS.ProcessEnv, logFile: string, ipc = false): Child {
  const proc = spawn(process.execPath, args, {
    env,
    stdio: ["ignore", "pipe", "pipe", ...(ipc ? (["ipc"] as const) : [])],
  });
  const log = createWriteStream(logFile, { flags: "a" });
  proc.stderr!.pipe(log);
  const lines: Array<Record<string, unknown>> = [];
  const listeners: Array<(line: Record<string, unknown>) => void> = [];
  let partial = "";
  proc.stdout!.on("data", (chunk: Buffer) => {
    partial += chunk.toString("utf8");
    const parts = partial.split("\n");
    partial = parts.pop() ?? "";
    for (const text of parts) {
      if (!text.startsWith("{")) continue;
      let line: Record<string, unknown>;
      try {
        line = JSON.parse(text) as Record<string, unknown>;
      } catch {
        continue;
      }
      lines.push(line);
      for (const fn of listeners) fn(line);
    }
  });
  // IPC to a child that just died throws EPIPE asynchronously; the harness notices the exit anyway.
  proc.on("error", () => {});
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.once("close", (code, signal) => {
      log.end();
      resolve({ code, signal });
    }),
  );
  const alive = () => proc.exitCode === null && proc.signalCode === null;
  return {
    name,
    proc,
    lines,
    onLine: (fn) => listeners.push(fn),
    exited,
    alive,
    send(message) {
      if (alive() && proc.connected) proc.send(message as object, () => {});
    },
    async stop(graceMs = 10_000) {
      if (!alive()) return void (await exited);
      proc.kill("SIGTERM");
      const timer = setTimeout(() => alive() && proc.kill("SIGKILL"), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}
