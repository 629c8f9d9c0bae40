/**
 * Polls `check` until it returns a value other than undefined/false, or throws the last failure when the
 * deadline passes. Tests wait on conditions with a deadline; they never sleep a fixed time and hope.
 */
export async function eventually<T>(
  check: () => T | undefined | false | Promise<T | undefined | false>,
  options: { timeoutMs?: number; intervalMs?: number; message?: string | (() => string) } = {},
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 15_000);
  let lastError: unknown;
  for (;;) {
    let value: Awaited<ReturnType<typeof check>> | typeof PENDING;
    try {
      // A check that never settles (a request to a frozen process, say) must not outlive the deadline.
      value = await beforeDeadline(check, deadline);
      if (value !== undefined && value !== false && value !== PENDING) return value;
      // A check cut off by the deadline proved nothing, so the failure before it stays the one reported.
      if (value !== PENDING) lastError = undefined;
    } catch (error) {
      value = undefined;
      lastError = error;
    }
    if (Date.now() > deadline || value === PENDING) {
      const reason = lastError instanceof Error ? `: ${lastError.message}` : "";
      const cutOff = value === PENDING ? " (the last check had not settled)" : "";
      const message = typeof options.message === "function" ? options.message() : options.message;
      throw new Error(`${message ?? "condition not met"} within ${options.timeoutMs ?? 15_000} ms${reason}${cutOff}`, {
        cause: lastError,
      });
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 50));
  }
}

const PENDING = Symbol("pending");

/** Runs `check`, settling with PENDING instead if it has not settled by `deadline` (epoch ms). */
async function beforeDeadline<T>(check: () => T | Promise<T>, deadline: number): Promise<T | typeof PENDING> {
  let timer: NodeJS.Timeout | undefined;
  const cutOff = new Promise<typeof PENDING>((resolve) => {
    // One more than the time left, so that the deadline has passed when this fires.
    timer = setTimeout(resolve, deadline - Date.now() + 1, PENDING);
  });
  try {
    // A check that throws synchronously rejects here, as before. race() also handles a late rejection of an
    // abandoned check, so it cannot surface as an unhandled rejection.
    return await Promise.race([new Promise<T>((resolve) => resolve(check())), cutOff]);
  } finally {
    clearTimeout(timer);
  }
}
