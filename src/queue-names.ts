import { FIFO_SUFFIX, QUEUE_NAME_PATTERN, SQS_LIMITS } from "./limits.js";

/** Separator django-sqs put between prefix, name and suffix; kept so migrated apps find their queues. */
export const NAME_SEPARATOR = "__";

/** The parts of a queue's full name. */
export interface QueueNameParts {
  readonly prefix?: string | undefined;
  readonly name: string;
  readonly suffix?: string | undefined;
}

/** True when the name is a FIFO queue's (ends with `.fifo`). */
export function isFifoName(name: string): boolean {
  return name.endsWith(FIFO_SUFFIX);
}

/**
 * Builds `PREFIX__name__suffix` exactly as django-sqs did, except that `.fifo` stays last
 * (`PREFIX__orders__big.fifo`), because SQS only accepts it there.
 */
export function fullQueueName({ prefix, name, suffix }: QueueNameParts): string {
  const fifo = isFifoName(name);
  const base = fifo ? name.slice(0, -FIFO_SUFFIX.length) : name;
  const joined = [prefix, base, suffix].filter((part) => part !== undefined && part !== "").join(NAME_SEPARATOR);
  return fifo ? `${joined}${FIFO_SUFFIX}` : joined;
}

/** Returns the rule a queue name breaks, or undefined when SQS would accept it. */
export function queueNameProblem(name: string): string | undefined {
  if (name.length === 0 || name.length > SQS_LIMITS.maxQueueNameLength) {
    return `must be 1..${SQS_LIMITS.maxQueueNameLength} characters long (it has ${name.length})`;
  }
  if (!QUEUE_NAME_PATTERN.test(name)) {
    return "may only contain letters, digits, '-' and '_', with an optional '.fifo' at the end";
  }
  return undefined;
}

/** Returns the rule a prefix or suffix breaks, or undefined when it is usable inside a queue name. */
export function namePartProblem(part: string): string | undefined {
  if (part.length === 0) return "must not be empty";
  if (!/^[A-Za-z0-9_-]+$/.test(part)) return "may only contain letters, digits, '-' and '_'";
  return undefined;
}
