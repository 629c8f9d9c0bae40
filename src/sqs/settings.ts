/**
 * Client settings shared by everything in one thread that talks to SQS on the user's behalf: `send()`, the
 * receiver proxies and full queue names. The daemon sets them from the config (in the main thread and, through
 * workerData, in every pool thread). Any other process either calls {@link configureSqs} or gets them from
 * the environment, so a web app can send without starting the daemon.
 */

import type { LargePayloadsOptions } from "../config/types.js";

/** Static credentials; left out, the AWS SDK's default provider chain is used. */
export interface SqsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

/** How to reach SQS and how to name queues. */
export interface SqsSettings {
  /** @defaultValue `AWS_REGION`, then `AWS_DEFAULT_REGION`, then `"us-east-1"` */
  readonly region: string;
  /** @defaultValue undefined: the SDK's endpoint, which honours `AWS_ENDPOINT_URL_SQS` */
  readonly endpoint: string | undefined;
  /** @defaultValue `SQS_QUEUE_PREFIX`, else none */
  readonly queuePrefix: string | undefined;
  /** Create a queue on first send when it does not exist. @defaultValue `false` */
  readonly createQueues: boolean;
  /** @defaultValue undefined: the SDK's default chain */
  readonly credentials: SqsCredentials | undefined;
  /**
   * Offload large bodies to S3 (config `largePayloads`); S3 uses the same region and credentials.
   * @defaultValue undefined: off, unless a receiver sets its own
   */
  readonly largePayloads?: LargePayloadsOptions | undefined;
  /**
   * The S3 endpoint for large payloads whose options name none, the receivers' own `largePayloads` included:
   * the embedded server's, which serves S3 too.
   * @defaultValue undefined: the SDK's S3 endpoint
   */
  readonly s3Endpoint?: string | undefined;
}

const SETTINGS_KEY = Symbol.for("sqsd.sqsSettings");
type SettingsHolder = { [SETTINGS_KEY]?: { settings: SqsSettings; generation: number } };
const holder = globalThis as SettingsHolder;

/** Settings read from the environment, used until {@link configureSqs} is called. */
export function settingsFromEnv(env: Readonly<Record<string, string | undefined>> = process.env): SqsSettings {
  return {
    region: env["AWS_REGION"] || env["AWS_DEFAULT_REGION"] || "us-east-1",
    endpoint: undefined,
    queuePrefix: env["SQS_QUEUE_PREFIX"] || undefined,
    createQueues: false,
    credentials: undefined,
  };
}

/**
 * Sets how this thread's `send()` and receiver proxies reach SQS. Fields left out keep their current value.
 *
 * @example
 * ```ts
 * configureSqs({ region: "eu-west-1", queuePrefix: "shop" });
 * await send("thumbnails", { imageId: 7 });
 * ```
 */
export function configureSqs(settings: Partial<SqsSettings>): void {
  const current = holder[SETTINGS_KEY];
  holder[SETTINGS_KEY] = {
    settings: { ...(current?.settings ?? settingsFromEnv()), ...settings },
    generation: (current?.generation ?? 0) + 1,
  };
}

/** This thread's settings. */
export function currentSqsSettings(): SqsSettings {
  return holder[SETTINGS_KEY]?.settings ?? settingsFromEnv();
}

/** Changes whenever the settings change, so cached clients know to rebuild. */
export function settingsGeneration(): number {
  return holder[SETTINGS_KEY]?.generation ?? 0;
}

/** How errors name the SQS endpoint: its URL, or the AWS region. */
export function endpointLabel(settings: Pick<SqsSettings, "endpoint" | "region">): string {
  return settings.endpoint ?? `SQS in ${settings.region}`;
}
