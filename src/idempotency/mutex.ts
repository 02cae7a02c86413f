/**
 * Runs async sections one at a time. WATCH state belongs to a connection, so optimistic
 * transactions sharing a connection must not interleave.
 */
export function createMutex() {
  let tail: Promise<unknown> = Promise.resolve();
  return function run<T>(fn: () => Promise<T>): Promise<T> {
    const result = tail.then(fn, fn);
    tail = result.catch(() => undefined);
    return result;
  };
}
