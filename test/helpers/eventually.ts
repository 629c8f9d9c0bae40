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
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
      lastError = undefined;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const reason = lastError instanceof Error ? `: ${lastError.message}` : "";
      const message = typeof options.message === "function" ? options.message() : options.message;
      throw new Error(`${message ?? "condition not met"} within ${options.timeoutMs ?? 15_000} ms${reason}`, {
        cause: lastError,
      });
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 50));
  }
}
