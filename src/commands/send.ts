import { text } from "node:stream/consumers";
import { SchemaValidationError } from "../codecs/errors.js";
import { errorSummary, UsageError } from "../errors.js";
import { jsonSyntaxReason } from "../util/json-syntax.js";
import { getRegistry } from "../registry/registry.js";
import type { SendOptions } from "../registry/types.js";
import { sendToQueue } from "../registry/producer.js";
import { openCommandContext, type CommandOptions } from "./context.js";

/** Options of `sqsd send`. */
export interface SendCommandOptions extends CommandOptions {
  /** Registered queue name. */
  readonly queue: string;
  /** The body; `-` or undefined reads it from stdin. */
  readonly body?: string | undefined;
  readonly suffix?: string | undefined;
  readonly delaySeconds?: number | undefined;
  readonly groupId?: string | undefined;
  readonly dedupId?: string | undefined;
  /** `key=value` message attributes (strings). */
  readonly attributes?: readonly string[] | undefined;
  /** Where `-` reads from. @defaultValue process.stdin */
  readonly stdin?: NodeJS.ReadableStream | undefined;
}

/** Codecs whose bodies are plain text: the command line's body is sent as that text, not parsed as JSON. */
const TEXT_CODECS = new Set(["raw", "base64"]);

/**
 * `sqsd send`: sends one message through the queue's codec, schema and naming, exactly as `send()` does.
 * For text codecs (`raw`, `base64`) the body is the text given; for every other codec it is parsed as JSON.
 * A body the queue refuses (not JSON, not what its codec sends, failing its schema) is a usage error, exit 2,
 * like every other mistake in the command line's input; SQS's own failures stay runtime failures, exit 1.
 */
export async function sendCommand(options: SendCommandOptions): Promise<number> {
  const context = await openCommandContext(options);
  try {
    const queue = getRegistry().get(options.queue);
    const raw =
      options.body === undefined || options.body === "-" ? await text(options.stdin ?? process.stdin) : options.body;
    const body = TEXT_CODECS.has(queue.codec.name) ? raw : parseJsonBody(raw, queue.name, queue.codec.name);
    try {
      // Encoded once here only to tell a body the codec cannot send (a modelInstance queue given something
      // other than a reference, say) from a failed request: send() throws both.
      queue.codec.encode(body);
    } catch (error) {
      throw new UsageError(
        `queue "${queue.name}" uses the ${queue.codec.name} codec, which cannot send this body: ${errorSummary(error)}`,
        { cause: error },
      );
    }
    const sendOptions: SendOptions = {
      ...(options.suffix === undefined ? {} : { suffix: options.suffix }),
      ...(options.delaySeconds === undefined ? {} : { delaySeconds: options.delaySeconds }),
      ...(options.groupId === undefined ? {} : { groupId: options.groupId }),
      ...(options.dedupId === undefined ? {} : { deduplicationId: options.dedupId }),
      ...(options.attributes && options.attributes.length > 0
        ? { messageAttributes: parseAttributes(options.attributes) }
        : {}),
    };
    const messageId = await sendToQueue(queue, body, sendOptions).catch((error: unknown) => {
      throw error instanceof SchemaValidationError ? new UsageError(error.message, { cause: error }) : error;
    });
    const fullName = queue.fullNameFor(options.suffix);
    context.output.text(`sent ${messageId} to ${fullName}`);
    context.output.result({ messageId, queue: fullName });
    return 0;
  } finally {
    context.close();
  }
}

function parseJsonBody(raw: string, queue: string, codec: string): unknown {
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    // Not V8's message: it quotes the body, which may hold personal data, into the terminal and CI logs.
    throw new UsageError(
      `queue "${queue}" uses the ${codec} codec, so the body must be JSON (${jsonSyntaxReason(raw)})`,
    );
  }
}

function parseAttributes(pairs: readonly string[]): Record<string, string> {
  const attributes: Record<string, string> = {};
  for (const pair of pairs) {
    const split = pair.indexOf("=");
    if (split <= 0) throw new UsageError(`--attr takes key=value, got "${pair}"`);
    attributes[pair.slice(0, split)] = pair.slice(split + 1);
  }
  return attributes;
}
