import { SchemaValidationError } from "../codecs/errors.js";
import { MessageTooLargeError, ValidationError } from "../errors.js";
import { ScheduleBodyError } from "./errors.js";

/**
 * Whether a failed forward can never succeed for that tick, however often it is retried: the schedule's body
 * function threw, or the body fails the queue's schema, its options or its size limit. Classified by error
 * class, never by message text. Other failures (SQS errors, a missing queue, a timeout) are retried until the
 * tick is too old.
 */
export function isPermanentForwardError(error: unknown): boolean {
  return (
    error instanceof ScheduleBodyError ||
    error instanceof ValidationError ||
    error instanceof SchemaValidationError ||
    error instanceof MessageTooLargeError
  );
}
