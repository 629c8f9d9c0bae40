import { SQSClient } from "@aws-sdk/client-sqs";
import { Agent } from "node:http";
import { Agent as HttpsAgent } from "node:https";
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
  const agentOptions = { keepAlive: true, maxSockets: tuning.maxSockets ?? 50 };
  return new SQSClient({
    region: settings.region,
    ...(settings.endpoint === undefined ? {} : { endpoint: settings.endpoint }),
    // With an endpoint from the environment the SDK would still send each request to its QueueUrl's host,
    // which a local server names after itself (sqs.us-east-1.localhost: unresolvable). An endpoint someone
    // chose is where requests go.
    ...(settings.endpoint === undefined && endpointFromEnv() ? { useQueueUrlAsEndpoint: false } : {}),
    ...(settings.credentials === undefined ? {} : { credentials: settings.credentials }),
    ...(tuning.maxAttempts === undefined ? {} : { maxAttempts: tuning.maxAttempts }),
    // The SDK builds its NodeHttpHandler from this plain object, so sqsd need not depend on @smithy directly.
    requestHandler: {
      httpAgent: new Agent(agentOptions),
      httpsAgent: new HttpsAgent(agentOptions),
      connectionTimeout: 5_000,
      requestTimeout: tuning.requestTimeoutMs ?? 30_000,
    },
  });
}
