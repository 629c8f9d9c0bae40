import { isIP } from "node:net";
import { loadConfig } from "../config/load.js";
import { errorSummary } from "../errors.js";

/** Options of `sqsd healthcheck`. */
export interface HealthcheckOptions {
  /** `--config`. @defaultValue the first `sqs.config.*` in the working directory */
  readonly configPath?: string | undefined;
  /** How long to wait for the daemon's answer. @defaultValue `5000` */
  readonly timeoutMs?: number | undefined;
  /** Where the one-line verdict goes. @defaultValue process.stdout */
  readonly stdout?: { write(text: string): unknown } | undefined;
}

/** Exit status of a failed check. Never 2: Docker's HEALTHCHECK reserves it. */
const UNHEALTHY = 1;

/**
 * `sqsd healthcheck`: asks the running daemon's `GET /healthz`, at the host and port its config's `http`
 * names, and exits 0 when it answers 200, 1 otherwise. For container health checks (Docker's `HEALTHCHECK`
 * cannot read the config). A config without `http` has nothing to ask: that is healthy, with a note, so an
 * image whose app turned the endpoint off is not restarted for it.
 *
 * @example
 * ```dockerfile
 * HEALTHCHECK CMD ["node", "/app/bin/sqsd.js", "healthcheck"]
 * ```
 */
export async function healthcheckCommand(options: HealthcheckOptions): Promise<number> {
  const out = options.stdout ?? process.stdout;
  const say = (line: string): void => void out.write(`${line}\n`);
  let url: string;
  try {
    const config = await loadConfig({ configPath: options.configPath });
    if (!config.http) {
      say("healthcheck: the config has no http endpoint, so there is nothing to check (set http.port to check)");
      return 0;
    }
    if (config.http.port === 0) {
      say("unhealthy: http.port is 0 (a free port picked at start-up), so the check cannot know where to ask");
      return UNHEALTHY;
    }
    url = `http://${urlHost(probeHost(config.http.host))}:${config.http.port}/healthz`;
  } catch (error) {
    // Reported here rather than by the CLI's error mapping, which would exit 2 for a config error.
    say(`unhealthy: cannot read the config: ${errorSummary(error)}`);
    return UNHEALTHY;
  }
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(options.timeoutMs ?? 5_000) });
    const body = (await response.text()).replace(/\s+/g, " ").trim();
    if (response.status === 200) {
      say(`healthy: ${url} answered 200`);
      return 0;
    }
    say(`unhealthy: ${url} answered ${response.status} ${body}`);
    return UNHEALTHY;
  } catch (error) {
    say(`unhealthy: ${url} did not answer: ${errorSummary(causeOf(error))}`);
    return UNHEALTHY;
  }
}

/**
 * The address to ask: a daemon listening on every interface is reached on IPv4 loopback (Node listens on `::`
 * dual-stack, and a container may have no IPv6 loopback at all).
 */
function probeHost(host: string): string {
  return host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host;
}

function urlHost(host: string): string {
  return isIP(host) === 6 ? `[${host}]` : host;
}

/** fetch wraps the reason a connection failed (ECONNREFUSED, a timeout) in a bare "fetch failed". */
function causeOf(error: unknown): unknown {
  return error instanceof TypeError && error.cause !== undefined ? error.cause : error;
}
