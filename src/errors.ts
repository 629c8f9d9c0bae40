/**
 * Every error sqsd raises on purpose. Each carries the context an operator needs (field, queue, file)
 * and a stable `code`, so callers classify with `instanceof` or `code` and never by message text. How a
 * failed AWS request is classified is in failure-kind.ts; the worker-thread pool's errors are in
 * pool-errors.ts, and those of cron schedules in schedules/errors.ts.
 */
import { awsErrorName, awsHttpStatus } from "./aws-error-fields.js";
import { describeValue } from "./describe-value.js";

/** Base class of sqsd's own errors. */
export abstract class SqsdError extends Error {
  /** Stable machine-readable identifier, e.g. `SQSD_CONFIG`. */
  abstract readonly code: string;
  /** Exit status the CLI uses when this error ends the process: 1 runtime failure, 2 usage or config error. */
  abstract readonly exitCode: 1 | 2;
}

/** The configuration file is missing, does not load, or has an invalid field. */
export class ConfigError extends SqsdError {
  override readonly name = "ConfigError";
  readonly code = "SQSD_CONFIG";
  readonly exitCode = 2;
  /** Path of the config file involved, when there is one. */
  readonly file: string | undefined;
  constructor(message: string, options: { file?: string; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.file = options.file;
  }
}

/** One invalid field, as the config rules report it. */
export interface FieldProblem {
  /** Dotted path of the field, e.g. `pool.threads` or `receivers[0]`. */
  readonly path: string;
  /** What the field must be, e.g. `must be an integer 1..256`. */
  readonly rule: string;
  /** The value that was received; left undefined when {@link FieldProblem.hidden} is set. */
  readonly received: unknown;
  /**
   * Set when the value must not be shown, because the field can hold a secret (a token, credentials, any key
   * sqsd does not know): what kind of value came instead, e.g. `a string`.
   */
  readonly hidden?: string;
}

/** A config object or receiver options failed validation; every problem is listed. */
export class ValidationError extends SqsdError {
  override readonly name = "ValidationError";
  readonly code = "SQSD_VALIDATION";
  readonly exitCode = 2;
  readonly problems: readonly FieldProblem[];
  constructor(subject: string, problems: readonly FieldProblem[]) {
    super(`${subject}: ${problems.map(formatProblem).join("; ")}`);
    this.problems = problems;
  }
}

/**
 * Formats a problem the way every sqsd validation message reads: `path rule, got value`, or for a field that
 * can hold a secret `path rule, got a string (value not shown)`.
 */
export function formatProblem(problem: FieldProblem): string {
  const got = problem.hidden === undefined ? describeValue(problem.received) : `${problem.hidden} (value not shown)`;
  return `${problem.path} ${problem.rule}, got ${got}`;
}

/** A receiver or queue registration broke a registry rule (bad name, duplicate, missing handler). */
export class RegistrationError extends SqsdError {
  override readonly name = "RegistrationError";
  readonly code = "SQSD_REGISTRATION";
  readonly exitCode = 2;
  readonly queue: string;
  constructor(queue: string, message: string) {
    super(message);
    this.queue = queue;
  }
}

/** A command line or API call named a queue that no receiver module registered. */
export class UnknownQueueError extends SqsdError {
  override readonly name = "UnknownQueueError";
  readonly code = "SQSD_UNKNOWN_QUEUE";
  readonly exitCode = 2;
  readonly queue: string;
  constructor(queue: string, known: readonly string[]) {
    const list = known.length > 0 ? known.join(", ") : "none";
    super(`unknown queue "${queue}" (registered queues: ${list})`);
    this.queue = queue;
  }
}

/** The command line itself is wrong (conflicting flags, impossible values). */
export class UsageError extends SqsdError {
  override readonly name = "UsageError";
  readonly code = "SQSD_USAGE";
  readonly exitCode = 2;
}

/** A receiver module threw while it was imported, or could not be found. */
export class ReceiverLoadError extends SqsdError {
  override readonly name = "ReceiverLoadError";
  readonly code = "SQSD_RECEIVER_LOAD";
  readonly exitCode = 2;
  readonly file: string;
  constructor(file: string, cause: unknown) {
    super(`receiver module ${file} failed to load: ${errorSummary(cause)}`, { cause });
    this.file = file;
  }
}

/** The `telemetry.setup` module threw while it was imported, or could not be found. */
export class TelemetrySetupError extends SqsdError {
  override readonly name = "TelemetrySetupError";
  readonly code = "SQSD_TELEMETRY_SETUP";
  readonly exitCode = 2;
  readonly file: string;
  constructor(file: string, cause: unknown) {
    super(`telemetry.setup module ${file} failed to load: ${errorSummary(cause)}`, { cause });
    this.file = file;
  }
}

/** A message is larger than its queue accepts; refused before any request. */
export class MessageTooLargeError extends SqsdError {
  override readonly name = "MessageTooLargeError";
  readonly code = "SQSD_MESSAGE_TOO_LARGE";
  readonly exitCode = 2;
  readonly queueName: string;
  readonly bytes: number;
  readonly maxBytes: number;
  constructor(queueName: string, bytes: number, maxBytes: number) {
    super(
      `a ${bytes}-byte message is larger than queue "${queueName}" accepts (MaximumMessageSize ${maxBytes} bytes, body and attributes together)`,
    );
    this.queueName = queueName;
    this.bytes = bytes;
    this.maxBytes = maxBytes;
  }
}

/** A queue the daemon must consume does not exist, and `createQueues` is off. */
export class QueueNotFoundError extends SqsdError {
  override readonly name = "QueueNotFoundError";
  readonly code = "SQSD_QUEUE_NOT_FOUND";
  readonly exitCode = 1;
  readonly queueName: string;
  constructor(queueName: string, endpoint: string) {
    super(`queue "${queueName}" does not exist at ${endpoint}; create it, or set createQueues: true in the config`);
    this.queueName = queueName;
  }
}

/** An SQS request failed; converted at the SDK boundary so the caller sees the action and queue. */
export class SqsRequestError extends SqsdError {
  override readonly name = "SqsRequestError";
  readonly code = "SQSD_SQS_REQUEST";
  readonly exitCode = 1;
  /** The SQS action, e.g. `ReceiveMessage`. */
  readonly action: string;
  readonly queueUrl: string | undefined;
  /** The AWS error name (e.g. `AWS.SimpleQueueService.NonExistentQueue`, `ThrottlingException`), if any. */
  readonly awsCode: string | undefined;
  /** The HTTP status of the response, if there was one. */
  readonly httpStatus: number | undefined;
  readonly messageIds: readonly string[];
  constructor(
    action: string,
    cause: unknown,
    context: { queueUrl?: string | undefined; messageIds?: readonly string[] } = {},
  ) {
    super(`${action} failed${context.queueUrl ? ` for ${context.queueUrl}` : ""}: ${requestFailure(cause)}`, {
      cause,
    });
    this.action = action;
    this.queueUrl = context.queueUrl;
    this.messageIds = context.messageIds ?? [];
    this.awsCode = awsErrorName(cause);
    this.httpStatus = awsHttpStatus(cause);
  }
}

/**
 * A failed request's cause, in words. An answer that is not JSON fails as JSON.parse's SyntaxError, whose
 * message quotes the text around the error: in a ReceiveMessage answer, message bodies, which must never
 * reach a log.
 */
function requestFailure(cause: unknown): string {
  return cause instanceof SyntaxError ? "SyntaxError: the response body is not valid JSON" : errorSummary(cause);
}

/**
 * The temporary directory cannot be written, and the TypeScript loader needs it: tsx caches compiled files
 * there, and waits forever on a directory it cannot create. A container with a read-only root filesystem needs
 * a writable volume at /tmp (or TMPDIR pointing at one).
 */
export class TempDirError extends SqsdError {
  override readonly name = "TempDirError";
  readonly code = "SQSD_TEMP_DIR";
  readonly exitCode = 2;
  constructor(dir: string, cause: unknown) {
    super(
      `cannot write to the temporary directory ${dir} (${errorSummary(cause)}): the TypeScript loader caches ` +
        `compiled modules there. Mount a writable volume at /tmp (Kubernetes: an emptyDir), or set TMPDIR to one`,
      { cause },
    );
  }
}

/**
 * A feature needs an optional package that is not installed: the embedded SQS server needs fauxqs, which a
 * production install (`npm ci --omit=dev`, the image) leaves out.
 */
export class MissingPackageError extends SqsdError {
  override readonly name = "MissingPackageError";
  readonly code = "SQSD_MISSING_PACKAGE";
  readonly exitCode = 2;
  /** The package to install, with the version range sqsd accepts, e.g. `fauxqs@^1.9.2`. */
  readonly packageName: string;
  constructor(
    packageName: string,
    neededFor: string,
    alternative: string,
    cause: unknown,
    installAs: "devDependency" | "dependency" = "devDependency",
  ) {
    const save = installAs === "dependency" ? "" : " --save-dev";
    super(
      `${neededFor} needs the package ${packageName}, which is not installed: run \`npm install${save} "${packageName}"\`, or ${alternative}`,
      { cause },
    );
    this.packageName = packageName;
  }
}

/**
 * An S3 request for a large payload failed (config `largePayloads`). The message names the operation, bucket
 * and key and S3's reason, never any part of the body. `missing` is set when the object or bucket does not
 * exist (404), which no retry can fix.
 */
export class PayloadStoreError extends SqsdError {
  override readonly name = "PayloadStoreError";
  readonly code = "SQSD_PAYLOAD_STORE";
  readonly exitCode = 1;
  readonly operation: string;
  readonly bucket: string;
  readonly key: string;
  readonly missing: boolean;
  constructor(operation: string, location: { bucket: string; key: string }, cause: unknown) {
    const where = location.key === "" ? `s3://${location.bucket}` : `s3://${location.bucket}/${location.key}`;
    super(`S3 ${operation} ${where} failed: ${errorSummary(cause)}`, { cause });
    this.operation = operation;
    this.bucket = location.bucket;
    this.key = location.key;
    const status = awsHttpStatus(cause);
    const name = awsErrorName(cause);
    this.missing = status === 404 || name === "NoSuchKey" || name === "NoSuchBucket";
  }
}

/** Exit status for any error: sqsd's own errors carry one; anything else is a runtime failure. */
export function exitCodeFor(error: unknown): 1 | 2 {
  return error instanceof SqsdError ? error.exitCode : 1;
}

/** One line that names an error without its stack: `TypeError: x is not a function`. */
export function errorSummary(error: unknown): string {
  if (error instanceof Error) {
    const name = error.name && error.name !== "Error" ? `${error.name}: ` : "";
    return `${name}${error.message}`;
  }
  return String(error);
}
