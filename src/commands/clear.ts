import { createInterface } from "node:readline/promises";
import {
  DeleteMessageBatchCommand,
  PurgeQueueCommand,
  PurgeQueueInProgress,
  ReceiveMessageCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { physicalQueues } from "../admin/physical-queues.js";
import { readQueueStatus } from "../admin/queue-status.js";
import { SqsRequestError, UsageError } from "../errors.js";
import { SQS_LIMITS } from "../limits.js";
import { openCommandContext, type CommandOptions } from "./context.js";

/** Options of `sqsd clear`. */
export interface ClearOptions extends CommandOptions {
  /** Registered names; every registered queue when empty. */
  readonly queues?: readonly string[] | undefined;
  /** Use PurgeQueue instead of receiving and deleting. @defaultValue `false` */
  readonly purge?: boolean | undefined;
  /** Skip the confirmation; required where there is no terminal to ask on. @defaultValue `false` */
  readonly yes?: boolean | undefined;
  /** Asks a yes/no question; the CLI asks on the terminal. @defaultValue ask on stdin when it is a TTY */
  readonly confirm?: ((question: string) => Promise<boolean>) | undefined;
}

/** One queue's result. */
interface Cleared {
  readonly queue: string;
  readonly deleted: number | undefined;
  readonly purged: boolean;
  readonly leftInFlight: number;
  readonly leftDelayed: number;
  readonly error?: string;
}

/**
 * `sqsd clear`: empties queues. By default it receives and deletes until a queue is empty and says how many
 * messages it deleted, and how many it left alone because they were in flight (another consumer holds them)
 * or delayed. `--purge` uses PurgeQueue instead, which is one request but allowed once a minute per queue.
 * It deletes only what was confirmed: on a terminal it asks, elsewhere (a script, a pipe, cron) it needs `--yes`.
 */
export async function clearCommand(options: ClearOptions): Promise<number> {
  const confirm = options.confirm ?? (process.stdin.isTTY && process.stdout.isTTY ? askOnTerminal : undefined);
  if (!options.yes && !confirm) {
    // Refused before any request: a forgotten queue name in a script would otherwise empty every queue.
    throw new UsageError("clear deletes messages and there is no terminal to confirm on; pass --yes to go ahead");
  }
  const context = await openCommandContext(options);
  try {
    const queues = physicalQueues(context.registered, context.config, { names: options.queues });
    const existing = (
      await readQueueStatus(
        context.client,
        context.urls,
        queues.map((queue) => queue.fullName),
      )
    ).filter((status) => status.exists);
    if (existing.length === 0) {
      context.output.text("No queue to clear: none of them exists.");
      context.output.result({ queues: [] });
      return 0;
    }
    if (!options.yes && confirm) {
      const names = existing.map((status) => status.name).join(", ");
      if (!(await confirm(`Delete every message in ${existing.length} queue(s) (${names})? [y/N] `))) {
        context.output.text("Cancelled; nothing was deleted.");
        return 1;
      }
    }
    const results: Cleared[] = [];
    for (const status of existing) {
      const url = await context.urls.resolve(status.name);
      try {
        const deleted = options.purge ? undefined : await receiveAndDelete(context.client, url);
        if (options.purge) await purge(context.client, url);
        const [after] = await readQueueStatus(context.client, context.urls, [status.name]);
        results.push({
          queue: status.name,
          deleted: options.purge ? status.visible : deleted,
          purged: options.purge === true,
          leftInFlight: after?.inFlight ?? 0,
          leftDelayed: after?.delayed ?? 0,
        });
      } catch (error) {
        results.push({
          queue: status.name,
          deleted: undefined,
          purged: false,
          leftInFlight: 0,
          leftDelayed: 0,
          error: (error as Error).message,
        });
      }
    }
    for (const result of results) context.output.text(describe(result));
    context.output.result({ queues: results });
    return results.some((result) => result.error !== undefined) ? 1 : 0;
  } finally {
    context.close();
  }
}

function describe(result: Cleared): string {
  if (result.error) return `${result.queue}: failed: ${result.error}`;
  const what = result.purged ? `purged (about ${result.deleted} messages)` : `${result.deleted} deleted`;
  const left = [
    result.leftInFlight > 0 ? `${result.leftInFlight} in flight` : undefined,
    result.leftDelayed > 0 ? `${result.leftDelayed} delayed` : undefined,
  ].filter(Boolean);
  return `${result.queue}: ${what}${left.length > 0 ? `; left alone: ${left.join(", ")} (run clear again once they are visible)` : ""}`;
}

/**
 * Receives and deletes until a receive comes back empty. A 1-second long poll, not a short poll: a short poll
 * samples only some SQS servers and can answer "empty" while messages remain.
 */
async function receiveAndDelete(client: SQSClient, url: string): Promise<number> {
  let deleted = 0;
  for (;;) {
    const { Messages = [] } = await client.send(
      new ReceiveMessageCommand({
        QueueUrl: url,
        MaxNumberOfMessages: SQS_LIMITS.maxBatchEntries,
        WaitTimeSeconds: 1,
        VisibilityTimeout: 60,
      }),
    );
    if (Messages.length === 0) return deleted;
    const output = await client.send(
      new DeleteMessageBatchCommand({
        QueueUrl: url,
        Entries: Messages.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle })),
      }),
    );
    deleted += output.Successful?.length ?? 0;
  }
}

async function purge(client: SQSClient, url: string): Promise<void> {
  try {
    await client.send(new PurgeQueueCommand({ QueueUrl: url }));
  } catch (error) {
    if (error instanceof PurgeQueueInProgress) {
      throw new Error(
        "SQS allows one PurgeQueue per queue every 60 seconds and refused this one; try again in a minute, or run clear without --purge",
        { cause: error },
      );
    }
    throw new SqsRequestError("PurgeQueue", error, { queueUrl: url });
  }
}

async function askOnTerminal(question: string): Promise<boolean> {
  const terminal = createInterface({ input: process.stdin, output: process.stdout });
  try {
    return /^y(es)?$/i.test((await terminal.question(question)).trim());
  } finally {
    terminal.close();
  }
}
