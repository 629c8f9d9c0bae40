import type { DeadLetterOptions, ResolvedConfig } from "../config/types.js";
import { UnknownQueueError } from "../errors.js";
import { FIFO_SUFFIX } from "../limits.js";
import { fullQueueName, isFifoName, NAME_SEPARATOR } from "../queue-names.js";
import type { RegisteredQueue } from "../registry/types.js";

/** A queue as it exists in SQS: a registered queue under one suffix (or none). */
export interface PhysicalQueue {
  readonly queue: RegisteredQueue;
  readonly suffix: string | undefined;
  readonly fullName: string;
  readonly visibilityTimeoutSeconds: number;
  /** The dead-letter queue the config asks for, if any. */
  readonly deadLetter: { readonly fullName: string; readonly maxReceiveCount: number } | undefined;
}

/**
 * The physical queues behind registered names, named exactly as the daemon names them: each queue's base name
 * and every declared suffix, or only the suffixes given. With no names, every registered queue.
 */
export function physicalQueues(
  registered: readonly RegisteredQueue[],
  config: Pick<ResolvedConfig, "defaults" | "queuePrefix">,
  selection: { readonly names?: readonly string[] | undefined; readonly suffixes?: readonly string[] | undefined } = {},
): PhysicalQueue[] {
  const known = registered.map((queue) => queue.name);
  const names = selection.names ?? [];
  const queues =
    names.length === 0
      ? registered
      : names.map((name) => {
          const queue = registered.find((candidate) => candidate.name === name);
          if (!queue) throw new UnknownQueueError(name, known);
          return queue;
        });
  return queues.flatMap((queue) => {
    const suffixes =
      selection.suffixes && selection.suffixes.length > 0
        ? selection.suffixes
        : [undefined, ...(queue.options.suffixes ?? [])];
    return suffixes.map((suffix) => physicalQueue(queue, suffix, config));
  });
}

/** One physical queue. */
export function physicalQueue(
  queue: RegisteredQueue,
  suffix: string | undefined,
  config: Pick<ResolvedConfig, "defaults" | "queuePrefix">,
): PhysicalQueue {
  const fullName = queue.fullNameFor(suffix);
  const deadLetter = queue.options.deadLetter ?? config.defaults.deadLetter;
  return {
    queue,
    suffix,
    fullName,
    visibilityTimeoutSeconds: queue.options.visibilityTimeoutSeconds ?? config.defaults.visibilityTimeoutSeconds,
    deadLetter: deadLetter
      ? {
          fullName: deadLetterName(fullName, deadLetter, config.queuePrefix),
          maxReceiveCount: deadLetter.maxReceiveCount,
        }
      : undefined,
  };
}

/**
 * A dead-letter queue's full name: the given name under the prefix, or the queue's own full name plus
 * `__dlq`. A FIFO queue's dead-letter queue must be FIFO too, so `.fifo` stays last.
 */
export function deadLetterName(fullName: string, options: DeadLetterOptions, prefix: string | undefined): string {
  const fifo = isFifoName(fullName);
  if (options.queueName !== undefined) {
    const base = options.queueName.endsWith(FIFO_SUFFIX)
      ? options.queueName
      : `${options.queueName}${fifo ? FIFO_SUFFIX : ""}`;
    return fullQueueName({ prefix, name: base });
  }
  const stem = fifo ? fullName.slice(0, -FIFO_SUFFIX.length) : fullName;
  return `${stem}${NAME_SEPARATOR}dlq${fifo ? FIFO_SUFFIX : ""}`;
}
