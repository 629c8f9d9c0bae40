/**
 * The errors that make a message undecodable. They are thrown in pool threads and cross to the supervisor as
 * plain data, so each carries a stable `code`; they all follow the queue's `onError` policy, which with a
 * redrive policy carries a poison message to its dead-letter queue.
 */

/** The body is not what the queue's codec (or schema) expects. */
export class MessageDecodeError extends Error {
  override readonly name: string = "MessageDecodeError";
  readonly code: string = "SQSD_DECODE";
}

/**
 * A body failed the queue's schema: on send, before any request; on receive, as a decode failure that follows
 * `onError`. `issues` lists each problem as `path: message`.
 */
export class SchemaValidationError extends Error {
  override readonly name: string = "SchemaValidationError";
  readonly code: string = "SQSD_SCHEMA";
  readonly issues: readonly string[];
  constructor(subject: string, issues: readonly string[]) {
    super(`${subject} does not match the schema: ${issues.join("; ")}`);
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
    super(`unknown model ${app}.${model}`);
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
    super(`${app}.${model} with pk ${JSON.stringify(pk)} does not exist`);
    this.app = app;
    this.model = model;
    this.pk = pk;
  }
}
