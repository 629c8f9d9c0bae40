import type { ResolvedConfig } from "../config/types.js";

/** What the running daemon says about one of its queues (`/status.json` → `supervisor.queues`). */
export interface DaemonQueueLoad {
  readonly buffered: number;
  readonly running: number;
}

/**
 * How long `sqsd status` waits for the daemon's HTTP endpoint before it shows SQS's counts alone: past the
 * 2 s that /status.json itself may wait for SQS before it answers with the counts it has.
 */
const DAEMON_WAIT_MS = 3_000;

/** What the running daemon's `/status.json` says: its state, messages processed so far, and per queue load. */
export interface DaemonStatus {
  readonly state: string | undefined;
  /** Handler runs finished since the daemon started; `sqsd status --watch` turns it into a rate. */
  readonly processed: number | undefined;
  readonly queues: ReadonlyMap<string, DaemonQueueLoad>;
}

/** The `/status.json` URL of the daemon this config runs; undefined without `http` or on a random port. */
export function daemonStatusUrl(http: ResolvedConfig["http"]): string | undefined {
  if (!http || http.port === 0) return undefined;
  // A daemon listening on every interface is reachable on loopback.
  const host = http.host === "0.0.0.0" || http.host === "::" ? "127.0.0.1" : http.host;
  return `http://${host.includes(":") ? `[${host}]` : host}:${http.port}/status.json`;
}

/**
 * Asks the daemon that this config runs, through its HTTP endpoint, how many messages of each queue it holds
 * buffered and running. Undefined when the config has no `http`, or no daemon answers in time: the status is
 * then SQS's counts alone. Never throws.
 */
export async function readDaemonLoad(
  http: ResolvedConfig["http"],
): Promise<ReadonlyMap<string, DaemonQueueLoad> | undefined> {
  const url = daemonStatusUrl(http);
  return url === undefined ? undefined : (await readDaemonStatus(url))?.queues;
}

/** Reads a daemon's `/status.json` at `url`; undefined when it does not answer in time or answers nonsense. Never throws. */
export async function readDaemonStatus(url: string): Promise<DaemonStatus | undefined> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(DAEMON_WAIT_MS) });
    // 503 while the daemon has never read its queues' counts from SQS: its own figures still come with it.
    if (!response.ok && response.status !== 503) return undefined;
    const body = (await response.json()) as { supervisor?: { queues?: unknown; state?: unknown; processed?: unknown } };
    const queues = body.supervisor?.queues;
    if (!Array.isArray(queues)) return undefined;
    const loads = new Map<string, DaemonQueueLoad>();
    for (const entry of queues as { queue?: unknown; buffered?: unknown; running?: unknown }[]) {
      if (typeof entry.queue === "string" && typeof entry.buffered === "number" && typeof entry.running === "number") {
        loads.set(entry.queue, { buffered: entry.buffered, running: entry.running });
      }
    }
    const { state, processed } = body.supervisor ?? {};
    return {
      state: typeof state === "string" ? state : undefined,
      processed: typeof processed === "number" ? processed : undefined,
      queues: loads,
    };
  } catch {
    // No daemon running, or not this one's endpoint: SQS's counts are the whole answer.
    return undefined;
  }
}
