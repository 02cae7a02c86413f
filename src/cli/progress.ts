/**
 * A one-line progress display on a terminal; silent when stderr is not a TTY (CI, pipes).
 * With a known total (a file's size), a bar of the bytes read; otherwise counts and a rate.
 */
export function createProgress(stream: NodeJS.WriteStream, totalBytes?: number) {
  const enabled = stream.isTTY === true;
  const started = Date.now();
  let lastRender = 0;
  const render = (s: Counts, bytes: number, end: boolean) => {
    if (!enabled || (!end && Date.now() - lastRender < 100)) return;
    lastRender = Date.now();
    const secs = (Date.now() - started) / 1000;
    const rate = secs > 0 ? Math.round(s.read / secs) : 0;
    const counts =
      `${s.read} read, ${s.enqueued} enqueued, ${s.duplicates} dup, ` +
      `${s.conflicts.length} conflicts, ${s.invalid.length} invalid, ${rate}/s`;
    let line = counts;
    if (totalBytes && totalBytes > 0) {
      const frac = Math.min(1, bytes / totalBytes);
      const filled = Math.round(frac * 30);
      line = `[${"#".repeat(filled)}${"-".repeat(30 - filled)}] ${(frac * 100).toFixed(0).padStart(3)}% ${counts}`;
    }
    stream.write(`\r${line}\x1b[K${end ? "\n" : ""}`);
  };
  return {
    update: (s: Counts, bytes = 0) => render(s, bytes, false),
    done: (s: Counts, bytes = totalBytes ?? 0) => render(s, bytes, true),
  };
}

interface Counts {
  read: number;
  enqueued: number;
  duplicates: number;
  conflicts: unknown[];
  invalid: unknown[];
}

/**
 * A one-line counter on stderr for a long run (redrive, discover, lists): "redrive: 1500/50003
 * (3%), 1200/s". Only on a terminal: piped or in CI nothing is written. `finish` clears the line,
 * so the output printed after it (stdout) is never mixed with it.
 */
export function createCounter(label: string, stream: NodeJS.WriteStream = process.stderr) {
  const enabled = stream.isTTY === true;
  const started = Date.now();
  let lastRender = 0;
  let shown = false;
  return {
    enabled,
    update(done: number, total?: number) {
      if (!enabled || Date.now() - lastRender < 100) return;
      lastRender = Date.now();
      const secs = (Date.now() - started) / 1000;
      const rate = secs > 0 ? Math.round(done / secs) : 0;
      const of = total !== undefined && total > 0 ? `/${total} (${Math.floor((done / total) * 100)}%)` : "";
      stream.write(`\r${label}: ${done}${of}, ${rate}/s\x1b[K`);
      shown = true;
    },
    finish() {
      if (enabled && shown) stream.write("\r\x1b[K");
    },
  };
}
