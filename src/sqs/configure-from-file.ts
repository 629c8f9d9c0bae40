import type { LoadConfigOptions } from "../config/load.js";
import type { LargePayloadsOptions, ResolvedConfig } from "../config/types.js";
import { LOCAL_SQS_CREDENTIALS } from "../embedded.js";
import { configureSqs, type SqsSettings } from "./settings.js";

/** Options of {@link configureFromFile}. */
export interface ConfigureFromFileOptions extends Pick<LoadConfigOptions, "configPath" | "cwd" | "env"> {
  /** Import the config's receiver modules, so that `send(name)` knows every queue. @defaultValue `true` */
  readonly importReceivers?: boolean;
}

/**
 * Sets up sending in a process that is not the daemon (a web app, a script) from the same `sqs.config.ts`:
 * region, endpoint, queue prefix and queue creation, and by default the receiver modules, so every registered
 * queue can be sent to by name. With `endpoint: "embedded"` it sends to where the daemon's embedded server
 * listens.
 *
 * @example
 * ```ts
 * await configureFromFile({ configPath: "./sqs.config.ts" });
 * await send("thumbnails", { imageId: 7 });
 * ```
 */
export async function configureFromFile(options: ConfigureFromFileOptions = {}): Promise<ResolvedConfig> {
  // Imported here rather than at the top: "sqsd" is imported by every receiver module in every pool thread,
  // and config loading (globbing, the TypeScript loader) is only needed by the processes that call this.
  const [{ loadConfig }, { findReceiverModules, importReceiverModules }] = await Promise.all([
    import("../config/load.js"),
    import("../receivers.js"),
  ]);
  const config = await loadConfig(options);
  configureSqs(sqsSettingsFromConfig(config));
  if (options.importReceivers !== false) {
    await importReceiverModules(await findReceiverModules(config.receivers, config.configPath));
  }
  return config;
}

/**
 * The SQS settings a config describes. With the embedded server, the endpoint is where the daemon's server
 * listens (or `embeddedEndpoint`, when the caller started it and knows the real port).
 */
export function sqsSettingsFromConfig(config: ResolvedConfig, embeddedEndpoint?: string): SqsSettings {
  const embedded = config.embedded;
  const embeddedUrl = embedded ? (embeddedEndpoint ?? `http://${embedded.host}:${embedded.port}`) : undefined;
  return {
    region: config.region,
    endpoint: embeddedUrl ?? config.endpoint,
    queuePrefix: config.queuePrefix,
    createQueues: config.createQueues,
    // The embedded server accepts any credentials; a developer machine may have none.
    credentials: embedded ? LOCAL_SQS_CREDENTIALS : undefined,
    largePayloads: largePayloadsWithEndpoint(config, embeddedUrl),
    // Also for the receivers' own largePayloads, which the config's above does not cover.
    s3Endpoint: embeddedUrl,
  };
}

/** The embedded server serves S3 on its SQS endpoint: offloaded bodies go there unless told otherwise. */
function largePayloadsWithEndpoint(
  config: ResolvedConfig,
  embeddedEndpoint: string | undefined,
): LargePayloadsOptions | undefined {
  const options = config.largePayloads;
  if (!options || options.s3Endpoint !== undefined || embeddedEndpoint === undefined) return options;
  return { ...options, s3Endpoint: embeddedEndpoint };
}
