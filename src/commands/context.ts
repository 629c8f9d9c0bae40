import type { SQSClient } from "@aws-sdk/client-sqs";
import { loadConfig } from "../config/load.js";
import type { ResolvedConfig } from "../config/types.js";
import { findReceiverModules, importReceiverModules } from "../receivers.js";
import { getRegistry } from "../registry/registry.js";
import type { RegisteredQueue } from "../registry/types.js";
import { createSqsClient } from "../sqs/client.js";
import { sqsSettingsFromConfig } from "../sqs/configure-from-file.js";
import { QueueUrls } from "../sqs/queue-urls.js";
import { configureSqs, endpointLabel, type SqsSettings } from "../sqs/settings.js";

/** Options every queue-admin command takes. */
export interface CommandOptions {
  /** `--config`. @defaultValue the first `sqs.config.*` in the working directory */
  readonly configPath?: string | undefined;
  /** `--json`: print one JSON document for scripts instead of text for people. @defaultValue `false` */
  readonly json?: boolean | undefined;
  /** Where output goes. @defaultValue process.stdout */
  readonly stdout?: NodeJS.WritableStream | undefined;
}

/** What a queue-admin command works with: the config, its queues, and an SQS client. */
export interface CommandContext {
  readonly config: ResolvedConfig;
  readonly settings: SqsSettings;
  readonly client: SQSClient;
  /** Queue URL look-ups that never create a queue (only `sqsd init` creates). */
  readonly urls: QueueUrls;
  readonly registered: readonly RegisteredQueue[];
  readonly output: Output;
  /** Releases the client's sockets. */
  close(): void;
}

/**
 * Loads the config and its receiver modules (to learn the registered queues, named as the daemon names them)
 * and opens an SQS client. The caller closes it.
 */
export async function openCommandContext(options: CommandOptions): Promise<CommandContext> {
  const config = await loadConfig({ configPath: options.configPath });
  const settings = sqsSettingsFromConfig(config);
  configureSqs(settings);
  await importReceiverModules(await findReceiverModules(config.receivers, config.configPath));
  const client = createSqsClient(settings);
  return {
    config,
    settings,
    client,
    urls: new QueueUrls(client, {
      createQueues: false,
      endpointLabel: endpointLabel(settings),
    }),
    registered: getRegistry().list(),
    output: new Output(options.json === true, options.stdout ?? process.stdout),
    close: () => client.destroy(),
  };
}

/** Writes a command's result: text for people, or one JSON document with `--json`. */
export class Output {
  readonly json: boolean;
  readonly #stream: NodeJS.WritableStream;

  constructor(json: boolean, stream: NodeJS.WritableStream) {
    this.json = json;
    this.#stream = stream;
  }

  /** Writes lines of text (skipped with `--json`). */
  text(...lines: string[]): void {
    if (!this.json) for (const line of lines) this.#stream.write(`${line}\n`);
  }

  /** Writes the JSON result (only with `--json`). */
  result(value: unknown): void {
    if (this.json) this.#stream.write(`${JSON.stringify(value, null, 2)}\n`);
  }
}

/** Renders rows as a table with aligned columns; columns of numbers (or "-") are right-aligned. */
export function table(header: readonly string[], rows: readonly (readonly (string | number)[])[]): string[] {
  const cells = [header, ...rows.map((row) => row.map(String))];
  const widths = header.map((_, column) => Math.max(...cells.map((row) => (row[column] ?? "").length)));
  const numeric = header.map(
    (_, column) =>
      rows.some((row) => typeof row[column] === "number") &&
      rows.every((row) => typeof row[column] === "number" || row[column] === "-"),
  );
  return cells.map((row) =>
    row
      .map((cell, column) => (numeric[column] ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!)))
      .join("  ")
      .trimEnd(),
  );
}
