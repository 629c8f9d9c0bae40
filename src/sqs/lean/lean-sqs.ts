import { randomUUID } from "node:crypto";
import type { Agent } from "node:http";
import type { Agent as HttpsAgent } from "node:https";
import type {
  ChangeMessageVisibilityBatchCommandInput,
  ChangeMessageVisibilityBatchCommandOutput,
  DeleteMessageBatchCommandInput,
  DeleteMessageBatchCommandOutput,
  ReceiveMessageCommandInput,
  ReceiveMessageCommandOutput,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { getRetryAfterHint } from "@smithy/core/retry";
import type {
  HttpResponse,
  RequestSigner,
  ResponseMetadata,
  RetryErrorInfo,
  RetryStrategy,
  RetryStrategyV2,
} from "@smithy/types";
import type { HotCallOptions, SqsHotPath } from "../hot-path.js";
import { requestUrl, resolveSqsEndpoint, type QueueUrlRule, type SqsEndpoint } from "./endpoint.js";
import { serviceError } from "./errors.js";
import { abortError, send, type WireResponse } from "./http.js";
import {
  correctedClockOffset,
  isAbortError,
  isRetryStrategyV2,
  parseJson,
  race,
  responseMetadata,
  retryErrorType,
  wireToHttpResponse,
} from "./retry.js";
import { isSdkSigV4, SigV4, type SdkSigV4 } from "./sigv4.js";
import * as wire from "./wire.js";

/** How the lean path connects; sized like the SDK client it stands beside. */
export interface LeanSqsOptions {
  readonly httpAgent: Agent;
  readonly httpsAgent: HttpsAgent;
  /** @defaultValue `5000`, as sqsd's SDK clients */
  readonly connectionTimeoutMs?: number;
  /** Must exceed the long-poll wait. @defaultValue `30000` */
  readonly requestTimeoutMs: number;
}

/** What the lean path reads from the SDK client's resolved config. */
interface BorrowedConfig {
  readonly retryStrategy: () => Promise<RetryStrategyV2 | RetryStrategy>;
  readonly maxAttempts: () => Promise<number>;
  readonly signer: (authScheme?: object) => Promise<RequestSigner>;
  readonly defaultUserAgentProvider?: () => Promise<readonly (readonly [string, string?])[]>;
  systemClockOffset?: number;
}

/** The client's resolved endpoint and retry settings, as the lean path keeps them. */
interface Resolved {
  readonly endpoint: SqsEndpoint;
  readonly strategy: RetryStrategyV2;
  readonly maxAttempts: number;
}

/** The `user-agent` and `x-amz-user-agent` values. */
interface UserAgents {
  readonly userAgent: string;
  readonly sdkAgent: string;
}

/** Queue URLs whose request URL is kept; a daemon consumes a fixed set of queues, usually far fewer. */
const MAX_CACHED_URLS = 10_000;

/**
 * The three hot actions without the SDK's middleware stack: each request is written in AWS JSON 1.0 as the
 * SDK writes it, signed by the SDK client's own SigV4 signer (its credentials provider, memoized and
 * refreshed by the SDK: env, SSO, web identity, ECS task role, static), sent to the endpoint the SDK's rules
 * resolve, and retried by the client's own retry strategy with the SDK's error classification, so
 * `maxAttempts` means the same. Responses are read into the SDK's output types; errors become the exceptions
 * the SDK would throw. Each attempt is reported to the {@link LeanSqs.onAttempt} listeners, as SQS bills it.
 */
export class LeanSqs implements SqsHotPath {
  readonly transport = "lean";
  readonly #config: BorrowedConfig;
  readonly #client: SQSClient;
  readonly #options: LeanSqsOptions;
  /** Read before any request: the endpoint middleware later marks an env endpoint custom too. */
  readonly #queueUrlRule: QueueUrlRule;
  #endpoint: Promise<SqsEndpoint> | undefined;
  #signer: Promise<RequestSigner> | undefined;
  #userAgent: Promise<UserAgents> | undefined;
  /** What the promises above resolved to, read without an await once known. */
  #resolved: Resolved | undefined;
  #signerNow: RequestSigner | undefined;
  #userAgentsNow: UserAgents | undefined;
  readonly #listeners: ((action: string) => void)[] = [];
  readonly #urls = new Map<string, URL>();
  readonly #receiveBodies = new wire.ReceiveBodies();
  #sigV4: { sdk: SdkSigV4; sigV4: SigV4 } | undefined;

  constructor(client: SQSClient, options: LeanSqsOptions) {
    this.#client = client;
    this.#config = client.config as unknown as BorrowedConfig;
    this.#options = options;
    this.#queueUrlRule = {
      explicitEndpoint: client.config.endpoint !== undefined,
      useQueueUrlAsEndpoint: client.config.useQueueUrlAsEndpoint !== false,
    };
  }

  /** Calls `listener` with the action's name (`ReceiveMessage`, ...) before every attempt, retries included. */
  onAttempt(listener: (action: string) => void): void {
    this.#listeners.push(listener);
  }

  receiveMessage(
    input: ReceiveMessageCommandInput,
    options: HotCallOptions = {},
  ): Promise<ReceiveMessageCommandOutput> {
    const body = this.#receiveBodies.body(input);
    return this.#call("ReceiveMessage", input.QueueUrl, body, wire.readReceiveMessage, options, true);
  }

  deleteMessageBatch(
    input: DeleteMessageBatchCommandInput,
    options: HotCallOptions = {},
  ): Promise<DeleteMessageBatchCommandOutput> {
    const body = wire.deleteMessageBatchBody(input);
    return this.#call("DeleteMessageBatch", input.QueueUrl, body, wire.readDeleteMessageBatch, options, false);
  }

  changeMessageVisibilityBatch(
    input: ChangeMessageVisibilityBatchCommandInput,
    options: HotCallOptions = {},
  ): Promise<ChangeMessageVisibilityBatchCommandOutput> {
    const body = wire.changeMessageVisibilityBatchBody(input);
    return this.#call(
      "ChangeMessageVisibilityBatch",
      input.QueueUrl,
      body,
      wire.readChangeMessageVisibilityBatch,
      options,
      false,
    );
  }

  /** The SDK's retry loop (`retryMiddleware`): a token per call, refreshed per retryable failure. */
  async #call<T>(
    action: string,
    queueUrl: string | undefined,
    body: string,
    read: (data: Record<string, unknown>) => T,
    options: HotCallOptions,
    longPoll: boolean,
  ): Promise<T & { $metadata: ResponseMetadata }> {
    const { abortSignal } = options;
    // Resolved once and kept (each is a memoized provider of the client's): an await each on every request
    // was a promise hop each on an idle daemon's every long poll.
    const { endpoint, strategy, maxAttempts } = this.#resolved ?? (await this.#resolve());
    const url = this.#urlFor(endpoint, queueUrl);
    if (abortSignal?.aborted) throw abortError(abortSignal);
    // ReceiveMessage is a long poll for the SDK too (getLongPollPlugin): its retry tokens have their own scope.
    const first = strategy.acquireInitialRetryToken(longPoll ? ":longpoll" : "");
    // The standard strategy hands out its first token at once; only the adaptive one's rate limiter may keep
    // it waiting, and only that wait needs racing against the signal (a race is a listener and three promises).
    let token = await ((strategy as { mode?: string }).mode === "standard" ? first : race(first, abortSignal));
    const invocationId = randomUUID();
    let attempts = 0;
    let totalRetryDelay = 0;
    for (;;) {
      let error: Error & { $metadata?: ResponseMetadata; $response?: HttpResponse };
      let response: WireResponse | undefined;
      try {
        const headers = {
          "amz-sdk-invocation-id": invocationId,
          "amz-sdk-request": `attempt=${attempts + 1}; max=${maxAttempts}`,
        };
        response = await this.#attempt(action, url, endpoint, body, headers, abortSignal);
        const metadata = responseMetadata(response);
        metadata.attempts = attempts + 1;
        metadata.totalRetryDelay = totalRetryDelay;
        if (response.statusCode >= 200 && response.statusCode < 300) {
          const output = read(parseJson(response.body)) as T & { $metadata: ResponseMetadata };
          output.$metadata = metadata;
          strategy.recordSuccess(token);
          return output;
        }
        this.#correctClock(response);
        error = serviceError(response, metadata);
      } catch (thrown) {
        error = thrown instanceof Error ? thrown : Object.assign(new Error(String(thrown)), { cause: thrown });
        // A body that is not JSON (a proxy's error page, a truncated answer): the SDK's deserializer throws
        // JSON.parse's SyntaxError with the response's status on it, so a 503 page stays transient.
        if (response !== undefined && error.name === "SyntaxError") {
          error.$metadata = responseMetadata(response);
          Object.defineProperty(error, "$response", { value: wireToHttpResponse(response), configurable: true });
        }
      }
      try {
        if (abortSignal?.aborted) throw error;
        const info = { error, errorType: retryErrorType(error) } as RetryErrorInfo;
        const hint = error.$response ? getRetryAfterHint(error.$response) : undefined;
        if (hint) info.retryAfterHint = hint;
        token = await race(strategy.refreshRetryTokenForRetry(token, info), abortSignal);
      } catch (refreshError) {
        if (refreshError !== error && abortSignal?.aborted && isAbortError(refreshError)) throw refreshError;
        error.$metadata = { ...error.$metadata, attempts: attempts + 1, totalRetryDelay };
        throw error;
      }
      attempts = token.getRetryCount();
      const delayMs = token.getRetryDelay();
      totalRetryDelay += delayMs;
      if (delayMs > 0) await race(new Promise((resolve) => setTimeout(resolve, delayMs)), abortSignal);
    }
  }

  /** One attempt: the SDK's headers, signed, sent. */
  async #attempt(
    action: string,
    url: URL,
    endpoint: SqsEndpoint,
    body: string,
    sdkHeaders: Record<string, string>,
    abortSignal: AbortSignal | undefined,
  ): Promise<WireResponse> {
    for (const listener of this.#listeners) listener(action);
    const { userAgent, sdkAgent } = this.#userAgentsNow ?? (await this.#userAgents());
    const signer = this.#signerNow ?? (await this.#resolvedSigner(endpoint));
    const headers: Record<string, string> = {
      ...endpoint.headers,
      "content-type": "application/x-amz-json-1.0",
      "x-amz-target": `AmazonSQS.${action}`,
      "x-amzn-query-mode": "true",
      "content-length": String(Buffer.byteLength(body)),
      "x-amz-user-agent": sdkAgent,
      "user-agent": userAgent,
      host: url.host,
      ...sdkHeaders,
    };
    const signingDate = new Date(Date.now() + (this.#config.systemClockOffset ?? 0));
    const sigV4 = isSdkSigV4(signer) ? this.#sigV4For(signer) : undefined;
    const signedHeaders = sigV4
      ? await sigV4.sign({
          canonicalPath: sigV4.canonicalPath(url.pathname),
          headers,
          body,
          repeats: action === "ReceiveMessage",
          signingDate,
          signingRegion: endpoint.signingRegion,
          signingService: endpoint.signingName,
        })
      : (
          await signer.sign(
            {
              method: "POST",
              protocol: url.protocol,
              hostname: url.hostname,
              ...(url.port ? { port: Number(url.port) } : {}),
              path: url.pathname,
              query: {},
              headers,
              body,
            },
            { signingDate, signingRegion: endpoint.signingRegion, signingService: endpoint.signingName },
          )
        ).headers;
    return send({
      url,
      headers: signedHeaders,
      body,
      agent: url.protocol === "https:" ? this.#options.httpsAgent : this.#options.httpAgent,
      connectionTimeoutMs: this.#options.connectionTimeoutMs ?? 5_000,
      requestTimeoutMs: this.#options.requestTimeoutMs,
      abortSignal,
    });
  }

  /** Request URLs by QueueUrl: parsing two URLs per request cost more than the rest of the bookkeeping. */
  #urlFor(endpoint: SqsEndpoint, queueUrl: string | undefined): URL {
    const key = queueUrl ?? "";
    let url = this.#urls.get(key);
    if (url === undefined) {
      url = requestUrl(endpoint.url, queueUrl, this.#queueUrlRule);
      // Bounded: a daemon has a fixed set of queues; anything past that is not worth keeping.
      if (this.#urls.size < MAX_CACHED_URLS) this.#urls.set(key, url);
    }
    return url;
  }

  /** The lean signer over the SDK's SignatureV4 (made again if the client's signer is ever a new one). */
  #sigV4For(signer: SdkSigV4): SigV4 {
    if (this.#sigV4?.sdk !== signer) this.#sigV4 = { sdk: signer, sigV4: new SigV4(signer) };
    return this.#sigV4.sigV4;
  }

  /** The endpoint, retry strategy and attempts the client resolves, kept once all three are known. */
  async #resolve(): Promise<Resolved> {
    const endpoint = await this.#resolvedEndpoint();
    const strategy = await this.#config.retryStrategy();
    if (!isRetryStrategyV2(strategy))
      throw new Error("the lean SQS path needs a retry strategy of the SDK's current kind");
    const maxAttempts = await this.#config.maxAttempts();
    this.#resolved = { endpoint, strategy, maxAttempts };
    return this.#resolved;
  }

  #resolvedEndpoint(): Promise<SqsEndpoint> {
    // Once per client, like the SDK's endpoint cache; a failure (say, a bad env endpoint) is tried again.
    this.#endpoint ??= resolveSqsEndpoint(this.#client).catch((error: unknown) => {
      this.#endpoint = undefined;
      throw error;
    });
    return this.#endpoint;
  }

  #resolvedSigner(endpoint: SqsEndpoint): Promise<RequestSigner> {
    // The client's own SignatureV4, built as its auth scheme builds it: credentials stay the client's provider.
    this.#signer ??= this.#config
      .signer({
        name: "sigv4",
        signingName: endpoint.signingName,
        signingRegion: endpoint.signingRegion,
        properties: {},
      })
      .then(
        (signer) => (this.#signerNow = signer),
        (error: unknown) => {
          this.#signer = undefined;
          throw error;
        },
      );
    return this.#signer;
  }

  #userAgents(): Promise<UserAgents> {
    this.#userAgent ??= (async () => {
      const pairs = (await this.#config.defaultUserAgentProvider?.()) ?? [];
      const parts = pairs.map(([name, version]) =>
        version === undefined ? name : name.includes("/") ? `${name}#${version}` : `${name}/${version}`,
      );
      this.#userAgentsNow = { userAgent: [...parts, "app/sqsd-lean"].join(" "), sdkAgent: parts[0] ?? "aws-sdk-js" };
      return this.#userAgentsNow;
    })().catch((error: unknown) => {
      // Tried again on the next request, as the endpoint and signer are: one failure must not fail every one.
      this.#userAgent = undefined;
      throw error;
    });
    return this.#userAgent;
  }

  /** The SDK signer's clock-skew correction, from an error response's Date header. */
  #correctClock(response: WireResponse): void {
    const offset = correctedClockOffset(response, this.#config.systemClockOffset ?? 0);
    if (offset !== undefined) this.#config.systemClockOffset = offset;
  }
}
