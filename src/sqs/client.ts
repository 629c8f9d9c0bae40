import { SQSClient } from "@aws-sdk/client-sqs";
import { Agent } from "node:http";
import { Agent as HttpsAgent } from "node:https";
import { SdkHotPath, type SqsHotPath, type SqsTransport } from "./hot-path.js";
import { LeanSqs } from "./lean/lean-sqs.js";
import type { SqsSettings } from "./settings.js";

/** Transport tuning on top of {@link SqsSettings}. */
export interface ClientTuning {
  /**
   * Socket budget. Every long poll holds a socket for up to 20 s, so the daemon sizes this from its receive
   * lanes plus room for deletes. @defaultValue `50`
   */
  readonly maxSockets?: number;
  /**
   * A request with no response for this long is aborted, so a dead connection cannot hang a poller forever.
   * Must exceed the long-poll wait. @defaultValue `30000`
   */
  readonly requestTimeoutMs?: number;
  /**
   * Attempts per request, the SDK's own retries included. The daemon retries on its own schedule (poll backoff,
   * acker retries), so it keeps the SDK's share small: layered retries multiply into a flood during an outage.
   * @defaultValue `3` (the SDK's default)
   */
  readonly maxAttempts?: number;
  /**
   * Check each received body against its `MD5OfBody` in the SDK. The daemon's receive client turns it off:
   * pool threads check the MD5 where they decode the body (`workers/decode-message.ts`), so the supervisor's
   * event loop does not hash every body. @defaultValue `true`
   */
  readonly verifyMd5?: boolean;
}

/** Keep-alive agents for one client's socket budget. */
interface Agents {
  readonly httpAgent: Agent;
  readonly httpsAgent: HttpsAgent;
}

/**
 * Whether the SDK will send to an endpoint of the environment's choosing (`AWS_ENDPOINT_URL_SQS`, or
 * `AWS_ENDPOINT_URL`), as it reads them.
 */
export function endpointFromEnv(env: Readonly<Record<string, string | undefined>> = process.env): boolean {
  if (env["AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"]?.toLowerCase() === "true") return false;
  return Boolean(env["AWS_ENDPOINT_URL_SQS"] || env["AWS_ENDPOINT_URL"]);
}

/** Creates an SQS client with keep-alive sockets and a request timeout. */
export function createSqsClient(settings: SqsSettings, tuning: ClientTuning = {}): SQSClient {
  return clientWith(settings, tuning, agentsFor(tuning));
}

/** An SQS client and the path its hot actions take, sharing one socket budget. */
export interface SqsConnection {
  /** Every action; the hot ones too with the `sdk` transport. */
  readonly client: SQSClient;
  /** ReceiveMessage, DeleteMessageBatch and ChangeMessageVisibilityBatch. */
  readonly hot: SqsHotPath;
  /**
   * Closes the client and the sockets both share. `client.destroy()` alone would leave them open when the
   * client never sent a request itself (the SDK resolves its handler, and so its agents, on first use), as
   * with the lean transport's receive connection.
   */
  destroy(): void;
}

/**
 * Creates an SQS client and, beside it, the path for the hot actions: the lean one (the client's
 * credentials, endpoint, signer and retry strategy, over the same keep-alive agents) or the client itself.
 */
export function createSqsConnection(
  settings: SqsSettings,
  tuning: ClientTuning & { readonly transport: SqsTransport },
): SqsConnection {
  const agents = agentsFor(tuning);
  const client = clientWith(settings, tuning, agents);
  const hot =
    tuning.transport === "sdk"
      ? new SdkHotPath(client)
      : new LeanSqs(client, {
          ...agents,
          connectionTimeoutMs: CONNECTION_TIMEOUT_MS,
          requestTimeoutMs: requestTimeoutMs(tuning),
        });
  return {
    client,
    hot,
    destroy: () => {
      client.destroy();
      agents.httpAgent.destroy();
      agents.httpsAgent.destroy();
    },
  };
}

const CONNECTION_TIMEOUT_MS = 5_000;

function requestTimeoutMs(tuning: ClientTuning): number {
  return tuning.requestTimeoutMs ?? 30_000;
}

function agentsFor(tuning: ClientTuning): Agents {
  const agentOptions = { keepAlive: true, maxSockets: tuning.maxSockets ?? 50 };
  return { httpAgent: new Agent(agentOptions), httpsAgent: new HttpsAgent(agentOptions) };
}

function clientWith(settings: SqsSettings, tuning: ClientTuning, agents: Agents): SQSClient {
  return new SQSClient({
    region: settings.region,
    ...(settings.endpoint === undefined ? {} : { endpoint: settings.endpoint }),
    // With an endpoint from the environment the SDK would still send each request to its QueueUrl's host,
    // which a local server names after itself (sqs.us-east-1.localhost: unresolvable). An endpoint someone
    // chose is where requests go.
    ...(settings.endpoint === undefined && endpointFromEnv() ? { useQueueUrlAsEndpoint: false } : {}),
    ...(settings.credentials === undefined ? {} : { credentials: settings.credentials }),
    ...(tuning.maxAttempts === undefined ? {} : { maxAttempts: tuning.maxAttempts }),
    // The middleware stack resolved once per command class, not on every send. The `client` bench scenario
    // (one process, alternating rounds) measured 0.78 to 0.91× the default client's CPU per empty receive,
    // 0.90× per receive of 10 messages; `md5: false` a further 0.06× where there are bodies to hash.
    cacheMiddleware: true,
    ...(tuning.verifyMd5 === false ? { md5: false } : {}),
    // The SDK builds its NodeHttpHandler from this plain object.
    requestHandler: {
      ...agents,
      connectionTimeout: CONNECTION_TIMEOUT_MS,
      requestTimeout: requestTimeoutMs(tuning),
      // Without it this SDK only logs a warning when requestTimeout passes; sqsd relies on the request failing.
      throwOnRequestTimeout: true,
    },
  });
}
