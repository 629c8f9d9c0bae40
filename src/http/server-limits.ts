import { createServer, type RequestListener, type Server } from "node:http";

/** The HTTP server's timeouts and connection limit. */
export interface HttpServerLimits {
  /** A client must send its whole request head within this. */
  readonly headersTimeoutMs: number;
  /** A client must send its whole request within this. */
  readonly requestTimeoutMs: number;
  /** An idle keep-alive connection is closed after this. */
  readonly keepAliveTimeoutMs: number;
  /** A connection with no traffic either way for this long is closed, whatever it waits on. */
  readonly socketIdleTimeoutMs: number;
  /** Connections open at once; further ones are closed as they arrive. */
  readonly maxConnections: number;
}

/**
 * Fixed on purpose rather than configurable: the endpoint's clients are probes, scrapers and operators, none
 * sends a request body, and no route waits on SQS for more than a few seconds (2 s per status read). A client that
 * dribbles its request in, or opens connections by the hundred, must not hold the file descriptors and memory
 * the daemon needs for SQS and its handlers. Node's defaults (300 s per request, unlimited connections) are
 * meant for public web servers with uploads.
 */
export const HTTP_SERVER_LIMITS: HttpServerLimits = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 15_000,
  keepAliveTimeoutMs: 5_000,
  socketIdleTimeoutMs: 30_000,
  maxConnections: 64,
};

/**
 * An HTTP server with {@link HTTP_SERVER_LIMITS} (or `overrides` of them) applied. `onDrop` hears of each
 * connection closed because the limit was reached.
 */
export function createLimitedServer(
  overrides: Partial<HttpServerLimits>,
  listener: RequestListener,
  onDrop: (remoteAddress: string | undefined, maxConnections: number) => void,
): Server {
  const limits = { ...HTTP_SERVER_LIMITS, ...overrides };
  const server = createServer(
    {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      // How often the two timeouts above are checked (Node's default, 30 s, would stretch them by as much).
      connectionsCheckingInterval: Math.min(1_000, limits.headersTimeoutMs),
    },
    listener,
  );
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;
  // With no "timeout" listener, Node destroys a socket idle for this long.
  server.setTimeout(limits.socketIdleTimeoutMs);
  server.maxConnections = limits.maxConnections;
  server.on("drop", (connection?: { remoteAddress?: string }) =>
    onDrop(connection?.remoteAddress, limits.maxConnections),
  );
  return server;
}
