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
 * codec replaces django-sqs's custom message classes.
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
export interface Codec<T = unknown> {
  /** Shown in logs and errors. */
  readonly name: string;
  /** Body for `value`. Throwing rejects the send before any request is made. */
  encode(value: T): string;
  /** Value for `body`. Throwing makes a decode error, which follows the queue's `onError` policy. */
  decode(body: string, context: CodecContext): T;
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
  decode: (body) => JSON.parse(body) as unknown,
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

/** The codecs that can be named by string in receiver options. */
export const builtInCodecs = { json: jsonCodec, raw: rawCodec } as const;

/** A built-in codec's name. */
export type CodecName = keyof typeof builtInCodecs;

/** Looks up a codec given by name, or returns a codec object as it is. */
export function resolveCodec<T>(codec: CodecName | Codec<T> | undefined): Codec<T> {
  if (codec === undefined) return jsonCodec as Codec<T>;
  if (typeof codec === "string") return builtInCodecs[codec] as Codec<T>;
  return codec;
}

/** True for a codec name sqsd knows. */
export function isCodecName(value: unknown): value is CodecName {
  return typeof value === "string" && Object.hasOwn(builtInCodecs, value);
}
