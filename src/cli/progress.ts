/** A one-line progress display on a terminal; silent when stderr is not a TTY (CI, pipes). */
export function createProgress(stream: NodeJS.WriteStream) {
  const enabled = stream.isTTY === true;
  const started = Date.now();
  const render = (s: { read: number; enqueued: number; duplicates: number; invalid: unknown[] }, end = false) => {
    if (!enabled) return;
    const secs = (Date.now() - started) / 1000;
    const rate = secs > 0 ? Math.round(s.read / secs) : 0;
    const filled = Math.min(30, Math.floor(Math.log10(s.read + 1) * 6));
    const bar = "#".repeat(filled) + "-".repeat(30 - filled);
    stream.write(`\r[${bar}] ${s.read} read, ${s.enqueued} enqueued, ${s.duplicates} dup, ${s.invalid.length} invalid, ${rate}/s${end ? "\n" : ""}`);
  };
  return { update: (s: Parameters<typeof render>[0]) => render(s), done: (s: Parameters<typeof render>[0]) => render(s, true) };
}
