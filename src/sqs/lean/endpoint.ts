import { ReceiveMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { getEndpointFromInstructions } from "@smithy/core/endpoints";

/** Where the lean path sends an SQS request, and how it signs it, as the SDK client would. */
export interface SqsEndpoint {
  /** The endpoint the SDK's rules resolved (`AWS_ENDPOINT_URL_SQS`, FIPS, dual-stack, an explicit endpoint...). */
  readonly url: URL;
  /** The region to sign for: the endpoint's auth scheme's, else the client's. */
  readonly signingRegion: string;
  /** The service name to sign for. */
  readonly signingName: string;
  /** Headers a custom endpoint asks for, if any. */
  readonly headers: Readonly<Record<string, string>>;
}

/** The SDK's rule for sending to a request's QueueUrl host instead (`@aws-sdk/middleware-sdk-sqs`). */
export interface QueueUrlRule {
  /** The client was given an `endpoint` (the env's `AWS_ENDPOINT_URL_SQS` does not count: the SDK reads it later). */
  readonly explicitEndpoint: boolean;
  /** The client's `useQueueUrlAsEndpoint` (the SDK's default is true). */
  readonly useQueueUrlAsEndpoint: boolean;
}

type AuthScheme = { name?: string; signingRegion?: string; signingName?: string };

/**
 * Resolves the SQS endpoint the way the SDK's endpoint middleware does, from the client's own resolved config
 * and its ruleset (`getEndpointFromInstructions` with ReceiveMessage's parameter instructions, which are SQS's
 * common ones for every action: region, FIPS, dual-stack, endpoint). SQS's ruleset reads nothing from the
 * request, so one resolution serves every request.
 */
export async function resolveSqsEndpoint(client: SQSClient): Promise<SqsEndpoint> {
  const config = client.config;
  const endpoint = await getEndpointFromInstructions({}, ReceiveMessageCommand, config);
  const scheme = (endpoint.properties?.["authSchemes"] as AuthScheme[] | undefined)?.find(
    (candidate) => candidate.name === "sigv4",
  );
  const headers: Record<string, string> = {};
  for (const [name, values] of Object.entries(endpoint.headers ?? {})) headers[name.toLowerCase()] = values.join(",");
  return {
    url: endpoint.url,
    signingRegion: scheme?.signingRegion ?? (await config.region()),
    signingName: scheme?.signingName ?? "sqs",
    headers,
  };
}

/**
 * The URL a request goes to: the endpoint, unless the SDK's SQS middleware would use the QueueUrl's origin
 * (no explicit endpoint, `useQueueUrlAsEndpoint`, and a QueueUrl on another origin). The path is the
 * endpoint's, ending in `/`, as the SDK's JSON protocol writes it.
 */
export function requestUrl(endpoint: URL, queueUrl: string | undefined, rule: QueueUrlRule): URL {
  let base = endpoint;
  if (!rule.explicitEndpoint && rule.useQueueUrlAsEndpoint && queueUrl) {
    try {
      const origin = new URL(new URL(queueUrl).origin);
      if (origin.origin !== endpoint.origin) base = origin;
    } catch {
      // The SDK logs an unparsable QueueUrl and keeps the endpoint; SQS then answers the request's error.
    }
  }
  const url = new URL(base.href);
  if (!url.pathname.endsWith("/")) url.pathname += "/";
  url.search = "";
  return url;
}
