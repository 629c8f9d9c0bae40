/**
 * SQS's own limits, written down once. Config rules, the registry and the supervisor all read them from here.
 * @see https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/quotas-messages.html
 */
export const SQS_LIMITS = {
  /** ReceiveMessage's MaxNumberOfMessages ceiling, and the entry limit of every *Batch action. */
  maxBatchEntries: 10,
  /** Long-poll ceiling for ReceiveMessage's WaitTimeSeconds. */
  maxWaitTimeSeconds: 20,
  /** Visibility timeout ceiling (12 hours), also the ceiling for a message's total time in flight. */
  maxVisibilityTimeoutSeconds: 43_200,
  /** Per-message and queue-level DelaySeconds ceiling (15 minutes). */
  maxDelaySeconds: 900,
  /** Body plus attributes, per message and per batch request (1 MiB). */
  maxMessageBytes: 1_048_576,
  /** Queue names: 1..80 characters, `.fifo` included. */
  maxQueueNameLength: 80,
  /** Message attributes per message; SQS refuses a message with more. */
  maxMessageAttributes: 10,
} as const;

/** Queue names SQS accepts: letters, digits, `-` and `_`, with `.fifo` allowed only at the end. */
export const QUEUE_NAME_PATTERN = /^[A-Za-z0-9_-]+(\.fifo)?$/;

/** The suffix that marks a FIFO queue; sqsd keeps it last when it builds full names. */
export const FIFO_SUFFIX = ".fifo";
