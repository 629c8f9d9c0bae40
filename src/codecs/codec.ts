import { decodeBase64Text, encodeBase64Text } from "./base64.js";
import { jsonSyntaxReason } from "../util/json-syntax.js";
import { MessageDecodeError } from "./errors.js";
import { pythonJsonDumps } from "./python-json.js";

/**
 * A reference to a database row, as django-sqs's `ModelInstanceMessage` carried it. Declared here, not in
 * model-instance.ts, because {@link Codec.reference} returns one and model-instance.ts builds on `Codec`.
 */
export interface ModelRef {
  /** Django's app label, e.g. `auth`. */
  readonly app: string;
  /** The model's name, lower case as Django's ContentType has it, e.g. `user`. */
  readonly model: string;
  readonly pk: string | number;
}

/** What a codec may look at besides the body when it decodes. */
export interface CodecContext {
  /** The SQS message id. */
  readonly messageId: string;
  /** Message attributes as received. */
  readonly messageAttributes: Readonly<Record<string, MessageAttribute>>;
}

/** A message attribute as it travels with a message. */
export interface MessageAttribute {
  /** `String`, `Number`, `Binary`, or one of those with a custom `.label`. */
  readonly dataType: string;
  readonly stringValue?: string;
  readonly binaryValue?: Uint8Array;
}

/**
 * Turns values into SQS message bodies and back. Chosen per queue with the `codec` receiver option; a custom
 * codec replaces django-sqs's custom message classes. `T` is what handlers receive; `TSend` is what senders
 * pass, when that differs (a model-instance codec receives rows and sends rows or references).
 *
 * @example
 * ```ts
 * const upper: Codec<string> = {
 *   name: "upper",
 *   encode: (value) => value.toUpperCase(),
 *   decode: (body) => body,
 * };
 * ```
 */
export interface Codec<T = unknown, TSend = T> {
  /** Shown in logs and errors. */
  readonly name: string;
  /** Body for `value`. Throwing rejects the send before any request is made. */
  encode(value: TSend): string;
  /**
   * Value for `body`; may be async (to load a row). Throwing makes a decode error, which follows the queue's
   * `onError` policy: throw {@link MessageDecodeError} or a subclass to say why.
   */
  decode(body: string, context: CodecContext): T | Promise<T>;
  /** For bodies that reference stored data: the reference, which handlers get as `message.ref`. */
  reference?(body: string, context: CodecContext): ModelRef;
}

/** Bodies are JSON documents. The default codec. */
export const jsonCodec: Codec<unknown> = {
  name: "json",
  encode(value) {
    const body = JSON.stringify(value);
    // JSON.stringify returns undefined for undefined, functions and symbols; SQS needs a non-empty string.
    if (body === undefined) throw new TypeError(`the json codec cannot encode a value of type ${typeof value}`);
    return body;
  },
  decode: (body) => parseJson(body),
};

/** Bodies are passed through as strings, unchanged. */
export const rawCodec: Codec<string> = {
  name: "raw",
  encode(value) {
    if (typeof value !== "string") throw new TypeError(`the raw codec sends strings, got a ${typeof value}`);
    return value;
  },
  decode: (body) => body,
};

/**
 * Bodies are base64 of UTF-8 text: boto's default `Message` class, and so django-sqs's default. Byte-compatible
 * both ways with a Python producer or consumer using boto's defaults.
 */
export const base64Codec: Codec<string> = {
  name: "base64",
  encode(value) {
    if (typeof value !== "string") throw new TypeError(`the base64 codec sends strings, got a ${typeof value}`);
    return encodeBase64Text(value);
  },
  decode: (body) => decodeBase64Text(body),
};

/**
 * Bodies are base64 of JSON, as boto's `JSONMessage` wrote them. Encoding writes the JSON the way Python's
 * `json.dumps` does, so the bytes match a Python producer's.
 */
export const base64JsonCodec: Codec<unknown> = {
  name: "base64json",
  encode: (value) => encodeBase64Text(pythonJsonDumps(value)),
  decode: (body) => parseJson(decodeBase64Text(body)),
};

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    // V8's message quotes the body, so neither it nor the SyntaxError (as a cause, which loggers print) may
    // leave here: the reason names the offset only.
    throw new MessageDecodeError(`the body is not valid JSON (${jsonSyntaxReason(text)})`);
  }
}

/** The codecs that can be named by string in receiver options. */
export const builtInCodecs = {
  json: jsonCodec,
  raw: rawCodec,
  base64: base64Codec,
  base64json: base64JsonCodec,
} as const;

/** A built-in codec's name. */
export type CodecName = keyof typeof builtInCodecs;

/** Looks up a codec given by name, or returns a codec object as it is. */
export function resolveCodec<T, TSend = T>(codec: CodecName | Codec<T, TSend> | undefined): Codec<T, TSend> {
  if (codec === undefined) return jsonCodec as Codec<T, TSend>;
  if (typeof codec === "string") return builtInCodecs[codec] as unknown as Codec<T, TSend>;
  return codec;
}

/** True for a codec name sqsd knows. */
export function isCodecName(value: unknown): value is CodecName {
  return typeof value === "string" && Object.hasOwn(builtInCodecs, value);
}
