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

/**
 * Asks the daemon that this config runs, through its HTTP endpoint, how many messages of each queue it holds
 * buffered and running. Undefined when the config has no `http`, or no daemon answers in time: the status is
 * then SQS's counts alone. Never throws.
 */
export async function readDaemonLoad(
  http: ResolvedConfig["http"],
): Promise<ReadonlyMap<string, DaemonQueueLoad> | undefined> {
  if (!http || http.port === 0) return undefined;
  // A daemon listening on every interface is reachable on loopback.
  const host = http.host === "0.0.0.0" || http.host === "::" ? "127.0.0.1" : http.host;
  const url = `http://${host.includes(":") ? `[${host}]` : host}:${http.port}/status.json`;
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(DAEMON_WAIT_MS) });
    // 503 while the daemon has never read its queues' counts from SQS: its own figures still come with it.
    if (!response.ok && response.status !== 503) return undefined;
    const body = (await response.json()) as { supervisor?: { queues?: unknown } };
    const queues = body.supervisor?.queues;
    if (!Array.isArray(queues)) return undefined;
    const loads = new Map<string, DaemonQueueLoad>();
    for (const entry of queues as { queue?: unknown; buffered?: unknown; running?: unknown }[]) {
      if (typeof entry.queue === "string" && typeof entry.buffered === "number" && typeof entry.running === "number") {
        loads.set(entry.queue, { buffered: entry.buffered, running: entry.running });
      }
    }
    return loads;
  } catch {
    // No daemon running, or not this one's endpoint: SQS's counts are the whole answer.
    return undefined;
  }
}
