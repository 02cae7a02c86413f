/**
 * Rejects with `onTimeout()` when `promise` has not settled in `ms`. The Redis connections queue
 * commands while disconnected (BullMQ needs that), so without a bound an HTTP request would hang
 * for as long as Redis is away; with it the client gets a 503 it can retry.
 */
export async function withTimeout<T>(promise: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
