/**
 * Resolves the next time any of `listeners` is called (the owner calls every listener in the set when its
 * state changes), or when `signal` aborts; either way the listener is removed. Never rejects.
 */
export function nextNotification(listeners: Set<() => void>, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = (): void => {
      listeners.delete(done);
      signal.removeEventListener("abort", done);
      resolve();
    };
    listeners.add(done);
    signal.addEventListener("abort", done, { once: true });
  });
}
