import {
  DeleteMessageBatchCommand,
  ListMessageMoveTasksCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  StartMessageMoveTaskCommand,
  type Message,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { physicalQueue } from "../admin/physical-queues.js";
import { parseRedrivePolicy, readAttributes } from "../admin/queue-status.js";
import { errorSummary, QueueNotFoundError, SqsRequestError, UsageError } from "../errors.js";
import { failureKind } from "../failure-kind.js";
import { SQS_LIMITS } from "../limits.js";
import { getRegistry } from "../registry/registry.js";
import { sleep } from "../util/backoff.js";
import { openCommandContext, type CommandOptions } from "./context.js";

/** Options of `sqsd redrive`. */
export interface RedriveOptions extends CommandOptions {
  readonly queue: string;
  readonly suffix?: string | undefined;
  /** Move at most this many messages. @defaultValue all */
  readonly max?: number | undefined;
  /** Move at most this many messages a second, to spare the consumers. @defaultValue no limit */
  readonly maxPerSecond?: number | undefined;
}

/**
 * How long a message being copied stays hidden in the dead-letter queue: far longer than a send and a delete
 * take, short enough that after a crash the rest reappear soon. Should it ever run out, the message is copied
 * twice (a duplicate), never lost.
 */
const COPY_VISIBILITY_SECONDS = 10;

/** SQS's (approximate) count of a queue's received, not yet deleted messages. */
const NOT_VISIBLE = "ApproximateNumberOfMessagesNotVisible";

/**
 * `sqsd redrive`: moves messages from a queue's dead-letter queue (named by its redrive policy) back to it.
 * Without `--max` it asks SQS to do it with StartMessageMoveTask. Where that is not available (or with
 * `--max`), it copies: receive from the dead-letter queue, send to the source, and delete only what was
 * sent. Killed halfway, a message may end up in both queues, but never in neither; the batch it had received
 * stays hidden in the dead-letter queue for {@link COPY_VISIBILITY_SECONDS}, so a rerun reports those as
 * hidden (exit 1) rather than announce that the dead-letter queue is empty.
 */
export async function redriveCommand(options: RedriveOptions): Promise<number> {
  const context = await openCommandContext(options);
  try {
    const { client, urls, output } = context;
    const source = physicalQueue(getRegistry().get(options.queue), options.suffix, context.config).fullName;
    const sourceAttributes = await readAttributes(client, urls, source, ["QueueArn", "RedrivePolicy"]);
    if (!sourceAttributes)
      throw new UsageError(new QueueNotFoundError(source, context.settings.endpoint ?? context.config.region).message);
    const policy = parseRedrivePolicy(sourceAttributes["RedrivePolicy"]);
    if (!policy)
      throw new UsageError(`queue "${source}" has no redrive policy, so it has no dead-letter queue to redrive from`);
    const deadLetterUrl = await urls.resolve(policy.deadLetterQueueName);
    const sourceUrl = await urls.resolve(source);

    let method: "StartMessageMoveTask" | "copy" = "copy";
    let moved = 0;
    let failed = 0;
    if (options.max === undefined) {
      const result = await moveWithTask(
        client,
        policy.deadLetterTargetArn,
        sourceAttributes["QueueArn"] ?? "",
        options.maxPerSecond,
      );
      if (result.supported) {
        method = "StartMessageMoveTask";
        moved = result.moved;
        failed = result.failed ? 1 : 0;
      } else {
        output.text(`StartMessageMoveTask is not available here (${result.reason}); copying instead`);
      }
    }
    if (method === "copy") {
      ({ moved, failed } = await copyBack(client, deadLetterUrl, sourceUrl, options));
    }
    // A receive cannot see hidden messages: a killed redrive's last batch (received, not yet deleted) or what
    // another consumer of the dead-letter queue holds. They were not moved, so they are reported, not passed
    // over as success. Our own failed copies are hidden too, and already counted as failed.
    const notVisible = await readAttributes(client, urls, policy.deadLetterQueueName, [NOT_VISIBLE]);
    const hidden = Math.max(0, Number(notVisible?.[NOT_VISIBLE] ?? 0) - (method === "copy" ? failed : 0));
    const dlq = policy.deadLetterQueueName;
    output.text(
      `moved ${moved} message(s) from ${dlq} to ${source} (${method === "copy" ? "copied: sent, then deleted" : method})${failed > 0 ? `; ${failed} could not be moved and stay in ${dlq}` : ""}`,
    );
    if (hidden > 0) {
      output.text(
        `not moved: about ${hidden} message(s) hidden in ${dlq} (received and not deleted: by a redrive that was ` +
          `killed, visible again within ${COPY_VISIBILITY_SECONDS} s, or by another consumer); run redrive again once they are visible`,
      );
    }
    output.result({ source, deadLetterQueue: dlq, method, moved, failed, hidden });
    return failed > 0 || hidden > 0 ? 1 : 0;
  } finally {
    context.close();
  }
}

async function moveWithTask(
  client: SQSClient,
  deadLetterArn: string,
  sourceArn: string,
  maxPerSecond: number | undefined,
): Promise<{ supported: true; moved: number; failed: boolean } | { supported: false; reason: string }> {
  let taskHandle: string | undefined;
  try {
    ({ TaskHandle: taskHandle } = await client.send(
      new StartMessageMoveTaskCommand({
        SourceArn: deadLetterArn,
        DestinationArn: sourceArn,
        ...(maxPerSecond === undefined ? {} : { MaxNumberOfMessagesPerSecond: maxPerSecond }),
      }),
    ));
  } catch (error) {
    // Servers without move tasks answer with a client error (ElasticMQ, fauxqs) or, after the SDK's own
    // retries, a server error (moto: a 500 with an HTML page), and principals without the permission with
    // AccessDenied. The copy needs only receive/send/delete, so it is the way on for all of them; it is also
    // safe after a genuine 5xx, since it moves nothing it has not sent. Only a network failure or throttling
    // means the copy would meet the same wall: those fail the command.
    const request = new SqsRequestError("StartMessageMoveTask", error);
    if (request.httpStatus === undefined || failureKind(request) === "throttle") throw request;
    return { supported: false, reason: errorSummary(request) };
  }
  for (;;) {
    await sleep(2_000);
    const { Results = [] } = await client.send(
      new ListMessageMoveTasksCommand({ SourceArn: deadLetterArn, MaxResults: 10 }),
    );
    const task = Results.find((result) => result.TaskHandle === taskHandle) ?? Results[0];
    if (task && task.Status !== "RUNNING") {
      return { supported: true, moved: task.ApproximateNumberOfMessagesMoved ?? 0, failed: task.Status === "FAILED" };
    }
  }
}

async function copyBack(
  client: SQSClient,
  deadLetterUrl: string,
  sourceUrl: string,
  options: RedriveOptions,
): Promise<{ moved: number; failed: number }> {
  let moved = 0;
  let failed = 0;
  const limit = options.max ?? Infinity;
  const started = Date.now();
  while (moved + failed < limit) {
    const { Messages = [] } = await client.send(
      new ReceiveMessageCommand({
        QueueUrl: deadLetterUrl,
        MaxNumberOfMessages: Math.min(SQS_LIMITS.maxBatchEntries, limit - moved - failed),
        WaitTimeSeconds: 1,
        VisibilityTimeout: COPY_VISIBILITY_SECONDS,
        MessageSystemAttributeNames: ["All"],
        MessageAttributeNames: ["All"],
      }),
    );
    if (Messages.length === 0) break;
    const sent = await sendCopies(client, sourceUrl, Messages);
    // Delete only what the source queue now holds: a failure between the two steps duplicates, never loses.
    if (sent.length > 0) {
      await client.send(
        new DeleteMessageBatchCommand({
          QueueUrl: deadLetterUrl,
          Entries: sent.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle })),
        }),
      );
    }
    moved += sent.length;
    failed += Messages.length - sent.length;
    if (options.maxPerSecond !== undefined) {
      const dueMs = started + (moved / options.maxPerSecond) * 1000;
      if (dueMs > Date.now()) await sleep(dueMs - Date.now());
    }
  }
  return { moved, failed };
}

/** Sends copies of `messages` to the source queue; returns the ones that were sent. */
async function sendCopies(client: SQSClient, url: string, messages: readonly Message[]): Promise<Message[]> {
  const output = await client.send(
    new SendMessageBatchCommand({
      QueueUrl: url,
      Entries: messages.map((message, index) => ({
        Id: String(index),
        MessageBody: message.Body ?? "",
        ...(message.MessageAttributes && Object.keys(message.MessageAttributes).length > 0
          ? { MessageAttributes: message.MessageAttributes }
          : {}),
        // FIFO: keep the group; deduplicate by the original id so a repeated redrive cannot double a message.
        ...(message.Attributes?.MessageGroupId
          ? {
              MessageGroupId: message.Attributes.MessageGroupId,
              MessageDeduplicationId: message.Attributes.MessageDeduplicationId ?? message.MessageId,
            }
          : {}),
      })),
    }),
  );
  const sentIds = new Set((output.Successful ?? []).map((entry) => entry.Id));
  return messages.filter((_, index) => sentIds.has(String(index)));
}
