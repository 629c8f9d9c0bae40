/**
 * The errors that make a message undecodable. They are thrown in pool threads and cross to the supervisor as
 * plain data, so each carries a stable `code`; they all follow the queue's `onError` policy, which with a
 * redrive policy carries a poison message to its dead-letter queue. Their messages are logged, so they never
 * hold any part of the body: they name the reason, a position or a field path.
 */

/**
 * The body is not what the queue's codec (or schema) expects. Its message is logged as it is: a custom codec
 * that throws it must say why without quoting the body. Any other error a codec throws is logged by its name
 * and code only.
 */
export class MessageDecodeError extends Error {
  override readonly name: string = "MessageDecodeError";
  readonly code: string = "SQSD_DECODE";
}

/**
 * One schema problem as sqsd reports it: where, and what kind of problem, never the value or the validator's
 * own text (which may quote the value: valibot writes `Invalid email: Received "jane@..."`).
 */
export interface SchemaIssue {
  /** The failing field, `$` for the whole body: `$.email`, `$.items[2].sku`. */
  readonly path: string;
  /**
   * The validator's code for the problem when it gives one (zod's `code`, valibot's `type`, or another
   * validator's `code`), e.g. `invalid_format`, `too_small`, `email`; `invalid` otherwise.
   */
  readonly reason: string;
}

/**
 * A body failed the queue's schema: on send, before any request; on receive, as a decode failure that follows
 * `onError`. The message lists each issue as `reason at path`, e.g. `invalid_format at $.email`.
 */
export class SchemaValidationError extends Error {
  override readonly name: string = "SchemaValidationError";
  readonly code: string = "SQSD_SCHEMA";
  readonly issues: readonly SchemaIssue[];
  constructor(subject: string, issues: readonly SchemaIssue[]) {
    super(
      `${subject} does not match the schema: ${issues.map((issue) => `${issue.reason} at ${issue.path}`).join("; ")}`,
    );
    this.issues = issues;
  }
}

/** A model-instance reference names a model the resolver does not know. */
export class UnknownModelError extends MessageDecodeError {
  override readonly name: string = "UnknownModelError";
  override readonly code: string = "SQSD_UNKNOWN_MODEL";
  readonly app: string;
  readonly model: string;
  constructor(app: string, model: string) {
    super(`unknown model ${modelLabel(app, model)}`);
    this.app = app;
    this.model = model;
  }
}

/** A model-instance reference names a row that does not exist (any more). */
export class ModelInstanceNotFoundError extends MessageDecodeError {
  override readonly name: string = "ModelInstanceNotFoundError";
  override readonly code: string = "SQSD_INSTANCE_NOT_FOUND";
  readonly app: string;
  readonly model: string;
  readonly pk: string | number;
  constructor(app: string, model: string, pk: string | number) {
    // Not the pk: it comes from the body, and a string pk can be an email address.
    super(`the ${modelLabel(app, model)} row the message names does not exist`);
    this.app = app;
    this.model = model;
    this.pk = pk;
  }
}

/**
 * A message carries the extended clients' `ExtendedPayloadSize` attribute, but its body is not a pointer sqsd
 * can read (see src/payloads/pointer.ts).
 */
export class PayloadPointerError extends MessageDecodeError {
  override readonly name: string = "PayloadPointerError";
  override readonly code: string = "SQSD_PAYLOAD_POINTER";
}

/**
 * The S3 object an offloaded message points to could not be read: `SQSD_PAYLOAD_MISSING` when it does not
 * exist (deleted, expired by a lifecycle rule, wrong bucket), `SQSD_PAYLOAD_FETCH` otherwise. The message names
 * bucket and key, which the operator needs to look, and S3's reason.
 */
export class PayloadFetchError extends MessageDecodeError {
  override readonly name: string = "PayloadFetchError";
  override readonly code: string;
  readonly bucket: string;
  readonly key: string;
  constructor(bucket: string, key: string, missing: boolean, reason: string, cause?: unknown) {
    super(
      missing
        ? `the message's body is not in S3: s3://${bucket}/${key} does not exist (${reason})`
        : `cannot read the message's body from s3://${bucket}/${key} (${reason})`,
      { cause },
    );
    this.code = missing ? "SQSD_PAYLOAD_MISSING" : "SQSD_PAYLOAD_FETCH";
    this.bucket = bucket;
    this.key = key;
  }
}

/**
 * An offloaded message's pointer was refused before or while its object was read: it names a bucket outside
 * `largePayloads.bucket` and `allowedBuckets`, or a body larger than `maxPayloadBytes`. Names bucket and key.
 */
export class PayloadRefusedError extends MessageDecodeError {
  override readonly name: string = "PayloadRefusedError";
  override readonly code: string = "SQSD_PAYLOAD_REFUSED";
  readonly bucket: string;
  readonly key: string;
  constructor(bucket: string, key: string, why: string) {
    super(`refused to read the message's body from s3://${bucket}/${key}: ${why}`);
    this.bucket = bucket;
    this.key = key;
  }
}

/**
 * The body the thread got is not the body SQS took: its MD5 differs from the `MD5OfBody` SQS computed when the
 * message was sent. Altered on the way (a proxy, a fault), it is not handled, and never deleted by
 * `onError: "delete"`: it stays in the queue, and a retry or its redrive policy decides. Names the message,
 * never the body or its digest.
 */
export class BodyChecksumError extends MessageDecodeError {
  override readonly name: string = "BodyChecksumError";
  override readonly code: string = "SQSD_BODY_MD5_MISMATCH";
  constructor(messageId: string) {
    super(`the body of message ${messageId} does not match the MD5OfBody SQS sent with it: it changed on the way`);
  }
}

/**
 * The codes of decode failures that say nothing about the message as it was sent: it is left for a retry and
 * its redrive policy, never deleted by `onError: "delete"`.
 */
export const NEVER_DELETED_DECODE_CODES: ReadonlySet<string> = new Set(["SQSD_BODY_MD5_MISMATCH"]);

/**
 * The codes of decode failures that say nothing about the message itself: its body is in S3 and could not be
 * read (an outage, throttling, credentials, a deleted object) or was refused (another bucket, too large). Such
 * a message is never deleted by `onError: "delete"`: it is left for a retry, and its redrive policy decides.
 */
export const PAYLOAD_UNREADABLE_CODES: ReadonlySet<string> = new Set([
  "SQSD_PAYLOAD_MISSING",
  "SQSD_PAYLOAD_FETCH",
  "SQSD_PAYLOAD_REFUSED",
]);

/**
 * `app.model` for messages. Both come from the body, so they are shown only when they are Python identifiers,
 * as Django's app labels and model names are; anything else could be content, and is not shown.
 */
function modelLabel(app: string, model: string): string {
  const identifier = /^[A-Za-z_][A-Za-z0-9_]{0,99}$/;
  return identifier.test(app) && identifier.test(model) ? `${app}.${model}` : "(not an app_label.model name)";
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$.]{0,99}$/;

/**
 * What of a decode failure may be logged, as an Error to serialize or print. sqsd's decode errors
 * ({@link MessageDecodeError} and its subclasses, {@link SchemaValidationError}) are kept whole: their
 * messages never quote the body. Anything else a codec or schema throws (a custom codec's own `JSON.parse`,
 * say) keeps its name, code and stack frames, but not its message, which may quote the body; its stack's
 * first lines repeat that message, so they are rewritten too.
 */
export function loggableDecodeError(error: unknown): Error {
  if (error instanceof MessageDecodeError || error instanceof SchemaValidationError) return error;
  const { name, message, code, stack } = (typeof error === "object" && error !== null ? error : {}) as {
    name?: unknown;
    message?: unknown;
    code?: unknown;
    stack?: unknown;
  };
  const safe = new Error(
    "the codec or schema threw this error; its message is not logged, since it may quote the body",
  );
  safe.name = typeof name === "string" && IDENTIFIER.test(name) ? name : "Error";
  if (typeof code === "string" && IDENTIFIER.test(code)) Object.assign(safe, { code });
  safe.stack = [`${safe.name}: ${safe.message}`, ...stackFrames(name, message, stack)].join("\n");
  return safe;
}

/**
 * The `at ...` lines of a stack, without its head, which is V8's `name: message` and so may quote the body.
 * The message can span lines (a body with line breaks), so the head is cut by its exact text; a stack that
 * does not start with it gives no frames rather than risk a line of the message.
 */
function stackFrames(name: unknown, message: unknown, stack: unknown): string[] {
  if (typeof stack !== "string" || typeof name !== "string" || typeof message !== "string") return [];
  const head = message === "" ? name : `${name}: ${message}`;
  if (!stack.startsWith(`${head}\n`)) return [];
  return stack
    .slice(head.length + 1)
    .split("\n")
    .filter((line) => /^ {4}at /.test(line));
}
