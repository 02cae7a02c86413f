import { rm, writeFile, rename, readFile } from "node:fs/promises";

/**
 * A heartbeat file for container health checks: a long-running process (worker, serve, emulator)
 * rewrites it every few seconds with whether it is healthy, and `pc-invitations healthcheck`
 * (the Docker HEALTHCHECK) reads it. A file, not a port: a worker has no HTTP listener by default,
 * and a hung process stops writing, which the reader sees as a stale beat.
 */
export interface Beat {
  pid: number;
  /** ISO-8601 time of the beat. */
  at: string;
  healthy: boolean;
  /** Why not healthy. */
  reason?: string;
}

export interface Heartbeat {
  /** Writes a last beat saying `reason` (unhealthy), then removes the file. */
  stop(reason: string): Promise<void>;
}

export function startHeartbeat(options: {
  file: string;
  /** @defaultValue 5000 */
  intervalMs?: number;
  check: () => Promise<{ healthy: boolean; reason?: string }> | { healthy: boolean; reason?: string };
}): Heartbeat {
  const { file } = options;
  const write = async (state: { healthy: boolean; reason?: string }) => {
    const beat: Beat = { pid: process.pid, at: new Date().toISOString(), ...state };
    // Write then rename: a reader never sees half a file.
    await writeFile(`${file}.tmp`, JSON.stringify(beat));
    await rename(`${file}.tmp`, file);
  };
  let stopped = false;
  const beat = async () => {
    if (stopped) return;
    const state = await Promise.resolve(options.check()).catch((err: unknown) => ({
      healthy: false,
      reason: `health check threw: ${(err as Error)?.message ?? err}`,
    }));
    if (!stopped) await write(state).catch(() => undefined);
  };
  void beat();
  const timer = setInterval(() => void beat(), options.intervalMs ?? 5000);
  timer.unref();
  return {
    async stop(reason) {
      stopped = true;
      clearInterval(timer);
      await write({ healthy: false, reason }).catch(() => undefined);
      await rm(file, { force: true }).catch(() => undefined);
    },
  };
}

export type HealthVerdict = { ok: true; beat: Beat } | { ok: false; reason: string };

/** Reads a heartbeat file: healthy and no older than maxAgeMs, or why not. */
export async function readHeartbeat(file: string, maxAgeMs: number, now = Date.now()): Promise<HealthVerdict> {
  let beat: Beat;
  try {
    beat = JSON.parse(await readFile(file, "utf8")) as Beat;
  } catch (err) {
    return {
      ok: false,
      reason:
        (err as NodeJS.ErrnoException)?.code === "ENOENT"
          ? `no heartbeat at ${file} (process not started, or stopped)`
          : `unreadable heartbeat at ${file}`,
    };
  }
  const age = now - Date.parse(beat.at);
  if (!(age <= maxAgeMs))
    return {
      ok: false,
      reason:
        `last heartbeat ${Math.round(age / 1000)} s ago (over ` +
        `${Math.round(maxAgeMs / 1000)} s): process hung or gone`,
    };
  if (!beat.healthy) return { ok: false, reason: `unhealthy: ${beat.reason ?? "no reason given"}` };
  return { ok: true, beat };
}
