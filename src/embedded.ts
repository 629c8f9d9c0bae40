/**
 * The embedded local SQS server (fauxqs), for development, the quick start, the tests and the bench. Loaded
 * lazily: a production daemon never imports fauxqs, and a production install does not have it (it is an
 * optional peer dependency, installed in a development clone as a devDependency).
 */
import { readFileSync } from "node:fs";
import { MissingPackageError } from "./errors.js";

/** Where and how to run the local server. */
export interface LocalSqsOptions {
  /** Interface to listen on; loopback unless you mean to share it. @defaultValue `"127.0.0.1"` */
  readonly host?: string;
  /** Port; 0 picks a free one. @defaultValue `0` */
  readonly port?: number;
  /** @defaultValue `"us-east-1"` */
  readonly region?: string;
}

/** A running local SQS server. */
export interface LocalSqsServer {
  /** Endpoint URL other processes can use, e.g. `http://127.0.0.1:4566`. */
  readonly endpoint: string;
  readonly port: number;
  /** Requests served so far, by SQS action (`ReceiveMessage`, `DeleteMessageBatch`, ...). */
  readonly requests: ReadonlyMap<string, number>;
  /**
   * The same, for each queue a request named (by queue name, the last part of its URL), so a test can tell
   * one queue's traffic from the rest of a daemon's.
   */
  readonly requestsByQueue: ReadonlyMap<string, ReadonlyMap<string, number>>;
  /** Stops the server. Memoized. */
  stop(): Promise<void>;
}

/**
 * Starts fauxqs in this process. fauxqs's own `startFauxqs` listens on every interface; sqsd builds the app
 * itself so the server listens on loopback only, and counts requests per action and per queue, which the tests
 * and the bench read to show what a workload costs in SQS requests.
 */
export async function startLocalSqs(options: LocalSqsOptions = {}): Promise<LocalSqsServer> {
  const host = options.host ?? "127.0.0.1";
  const { buildApp } = await importFauxqs();
  const app = buildApp({ logger: false, defaultRegion: options.region ?? "us-east-1" });
  const requests = new Map<string, number>();
  const requestsByQueue = new Map<string, Map<string, number>>();
  const actionOf = (headers: Record<string, unknown>): string => {
    const target = headers["x-amz-target"];
    return typeof target === "string" ? target.replace(/^AmazonSQS\./, "") : "other";
  };
  app.addHook("onRequest", async (request) => {
    const action = actionOf(request.headers);
    requests.set(action, (requests.get(action) ?? 0) + 1);
  });
  // The queue is in the body, which is parsed only after onRequest.
  app.addHook("preHandler", async (request) => {
    const queueUrl = (request.body as { QueueUrl?: unknown } | null | undefined)?.QueueUrl;
    if (typeof queueUrl !== "string") return;
    const queue = queueUrl.slice(queueUrl.lastIndexOf("/") + 1);
    const counts = requestsByQueue.get(queue) ?? new Map<string, number>();
    requestsByQueue.set(queue, counts);
    const action = actionOf(request.headers);
    counts.set(action, (counts.get(action) ?? 0) + 1);
  });
  await app.listen({ host, port: options.port ?? 0 });
  const address = app.server.address();
  const port = typeof address === "object" && address !== null ? address.port : (options.port ?? 0);
  let stopping: Promise<void> | undefined;
  return {
    endpoint: `http://${host.includes(":") ? `[${host}]` : host}:${port}`,
    port,
    requests,
    requestsByQueue,
    stop: () => (stopping ??= app.close().then(() => undefined)),
  };
}

/**
 * Imports fauxqs, or throws a {@link MissingPackageError} when it is not installed. The package is resolved
 * first, so that only its own absence becomes that error: a missing module deeper inside fauxqs is a broken
 * install, and surfaces as it is.
 */
async function importFauxqs(): Promise<typeof import("fauxqs")> {
  try {
    import.meta.resolve("fauxqs");
  } catch (error) {
    if ((error as { code?: unknown } | null)?.code !== "ERR_MODULE_NOT_FOUND") throw error;
    throw new MissingPackageError(
      `fauxqs@${peerRange("fauxqs")}`,
      'the embedded SQS server (--embedded, endpoint: "embedded")',
      "point endpoint (or AWS_ENDPOINT_URL_SQS) at an SQS server",
      error,
    );
  }
  return import("fauxqs");
}

/**
 * The version range of an optional peer dependency, from sqsd's package.json: a bare `npm install fauxqs` would
 * take the latest major, which the peer range may not allow (npm then refuses the install).
 */
function peerRange(name: string): string {
  const packageJson = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
    peerDependencies?: Record<string, string>;
  };
  return packageJson.peerDependencies?.[name] ?? "latest";
}

/** Credentials for the local server, which accepts any; set so a machine without AWS credentials still works. */
export const LOCAL_SQS_CREDENTIALS = { accessKeyId: "sqsd-local", secretAccessKey: "sqsd-local" } as const;
