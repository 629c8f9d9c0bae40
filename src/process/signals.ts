/** The signals that ask the daemon to stop. */
export const SHUTDOWN_SIGNALS = ["SIGTERM", "SIGINT"] as const;
export type ShutdownSignal = (typeof SHUTDOWN_SIGNALS)[number];

/** Exit status for a forced stop, by shell convention 128 + the signal number. */
export function forcedExitCode(signal: ShutdownSignal): number {
  return signal === "SIGINT" ? 130 : 143;
}

/**
 * Calls `first` on the first SIGTERM or SIGINT and `second` on any later one. Returns a function that removes
 * the handlers again. A second signal never restarts the drain: it means "stop now".
 */
export function onShutdownSignals(handlers: {
  first(signal: ShutdownSignal): void;
  second(signal: ShutdownSignal): void;
}): () => void {
  let received = 0;
  const listener = (signal: ShutdownSignal): void => {
    received += 1;
    if (received === 1) handlers.first(signal);
    else handlers.second(signal);
  };
  for (const signal of SHUTDOWN_SIGNALS) process.on(signal, listener);
  return () => {
    for (const signal of SHUTDOWN_SIGNALS) process.off(signal, listener);
  };
}

/**
 * Operator signals beyond shutdown: SIGUSR2 wakes idle pollers; SIGTSTP pauses fetching (instead of stopping
 * the process, which is SIGTSTP's default) and SIGCONT resumes it. Returns a function that removes them.
 */
export function onControlSignals(handlers: { wake(): void; pause(): void; resume(): void }): () => void {
  const table: [NodeJS.Signals, () => void][] = [
    ["SIGUSR2", () => handlers.wake()],
    ["SIGTSTP", () => handlers.pause()],
    ["SIGCONT", () => handlers.resume()],
  ];
  for (const [signal, listener] of table) process.on(signal, listener);
  return () => {
    for (const [signal, listener] of table) process.off(signal, listener);
  };
}
