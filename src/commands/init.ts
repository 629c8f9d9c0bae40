import { CreateQueueCommand, SetQueueAttributesCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { physicalQueues, type PhysicalQueue } from "../admin/physical-queues.js";
import { parseRedrivePolicy, readAttributes } from "../admin/queue-status.js";
import { SqsRequestError } from "../errors.js";
import { isFifoName } from "../queue-names.js";
import {
  schedulesQueueName,
  SCHEDULES_RETENTION_SECONDS,
  SCHEDULES_VISIBILITY_TIMEOUT_SECONDS,
} from "../admin/schedules-queue.js";
import type { ResolvedConfig } from "../config/types.js";
import type { QueueUrls } from "../sqs/queue-urls.js";
import { openCommandContext, table, type CommandOptions } from "./context.js";
import { checkPayloadBuckets } from "./payload-buckets.js";
import { checkIdempotencyTables } from "./idempotency-tables.js";

/** Options of `sqsd init`. */
export interface InitOptions extends CommandOptions {
  /** Print the plan and change nothing. @defaultValue `false` */
  readonly dryRun?: boolean | undefined;
  /** Create the `largePayloads` buckets that do not exist; without it they are only checked. @defaultValue `false` */
  readonly createBucket?: boolean | undefined;
  /** Create the idempotency stores' DynamoDB tables that do not exist; without it they are only checked. @defaultValue `false` */
  readonly createTables?: boolean | undefined;
}

/** Dead-letter queues keep messages for SQS's maximum, 14 days, so that nothing expires before someone looks. */
const DEAD_LETTER_RETENTION_SECONDS = "1209600";

/** What init decided for one queue. */
interface Step {
  readonly queue: string;
  readonly action: "create" | "update" | "ok" | "cannot";
  /** What changes (or cannot), for people. */
  readonly details: string[];
}

interface Desired {
  readonly fullName: string;
  readonly role: "queue" | "dead-letter queue";
  /** Attributes that can be changed on an existing queue. */
  readonly mutable: Record<string, string>;
  /** Attributes fixed at creation. */
  readonly immutable: Record<string, string>;
  readonly redrive: { readonly deadLetterName: string; readonly maxReceiveCount: number } | undefined;
}

/**
 * `sqsd init`: creates every configured queue that is missing, with its attributes, and the dead-letter
 * queues and redrive policies the config asks for. On existing queues it reports attribute drift and updates
 * what SetQueueAttributes can change; what it cannot (a queue's FIFO-ness) is reported and exits 1. It looks
 * before it creates, so a changed visibility timeout never makes CreateQueue fail as it did in django-sqs.
 */
export async function initCommand(options: InitOptions): Promise<number> {
  const context = await openCommandContext(options);
  try {
    const desired = [...plan(physicalQueues(context.registered, context.config)), ...schedulesQueue(context.config)];
    const steps: Step[] = [];
    // Dead-letter queues first: a redrive policy needs its target's ARN.
    for (const queue of [
      ...desired.filter((item) => item.role !== "queue"),
      ...desired.filter((item) => item.role === "queue"),
    ]) {
      steps.push(await apply(context.client, context.urls, queue, options.dryRun === true));
    }
    const buckets = await checkPayloadBuckets(context.settings, context.registered, {
      createBucket: options.createBucket === true,
      dryRun: options.dryRun === true,
    });
    const tables = await checkIdempotencyTables(context.registered, {
      createTables: options.createTables === true,
      dryRun: options.dryRun === true,
    });
    const { output } = context;
    output.text(
      ...(options.dryRun ? ["Plan (dry run: nothing was changed)", ""] : []),
      ...table(
        ["ACTION", "QUEUE", "DETAILS"],
        [
          ...steps.map((step) => ({ ...step, name: step.queue })),
          ...buckets.map((step) => ({ ...step, name: step.bucket })),
          ...tables.map((step) => ({ ...step, name: step.table })),
        ].map((step) => [
          options.dryRun && step.action !== "ok" && step.action !== "missing" ? `would ${step.action}` : step.action,
          step.name,
          step.details.join("; ") || "-",
        ]),
      ),
    );
    output.result({
      dryRun: options.dryRun === true,
      steps,
      ...(buckets.length > 0 ? { buckets } : {}),
      ...(tables.length > 0 ? { tables } : {}),
    });
    return steps.some((step) => step.action === "cannot") ||
      [...buckets, ...tables].some((step) => step.action === "missing")
      ? 1
      : 0;
  } finally {
    context.close();
  }
}

function plan(queues: readonly PhysicalQueue[]): Desired[] {
  const byName = new Map<string, Desired>();
  for (const queue of queues) {
    const fifo = isFifoName(queue.fullName);
    if (queue.deadLetter && !byName.has(queue.deadLetter.fullName)) {
      byName.set(queue.deadLetter.fullName, {
        fullName: queue.deadLetter.fullName,
        role: "dead-letter queue",
        mutable: {},
        immutable: { MessageRetentionPeriod: DEAD_LETTER_RETENTION_SECONDS, ...(fifo ? { FifoQueue: "true" } : {}) },
        redrive: undefined,
      });
    }
    byName.set(queue.fullName, {
      fullName: queue.fullName,
      role: "queue",
      mutable: { VisibilityTimeout: String(queue.visibilityTimeoutSeconds) },
      immutable: fifo ? { FifoQueue: "true" } : {},
      redrive: queue.deadLetter && {
        deadLetterName: queue.deadLetter.fullName,
        maxReceiveCount: queue.deadLetter.maxReceiveCount,
      },
    });
  }
  return [...byName.values()];
}

/** The internal FIFO queue the daemons offer schedule ticks to, when the config has schedules. */
function schedulesQueue(config: ResolvedConfig): Desired[] {
  if (config.schedules.length === 0) return [];
  return [
    {
      fullName: schedulesQueueName(config.queuePrefix),
      role: "queue",
      mutable: {
        VisibilityTimeout: String(SCHEDULES_VISIBILITY_TIMEOUT_SECONDS),
        MessageRetentionPeriod: String(SCHEDULES_RETENTION_SECONDS),
      },
      immutable: { FifoQueue: "true" },
      redrive: undefined,
    },
  ];
}

async function apply(client: SQSClient, urls: QueueUrls, desired: Desired, dryRun: boolean): Promise<Step> {
  const existing = await readAttributes(client, urls, desired.fullName, ["All"]);
  const deadLetterArn = desired.redrive ? await arnOf(client, urls, desired.redrive.deadLetterName) : undefined;
  const redrivePolicy = desired.redrive
    ? JSON.stringify({
        deadLetterTargetArn: deadLetterArn ?? `(the ARN of ${desired.redrive.deadLetterName})`,
        maxReceiveCount: desired.redrive.maxReceiveCount,
      })
    : undefined;
  const wanted: Record<string, string> = {
    ...desired.mutable,
    ...(redrivePolicy ? { RedrivePolicy: redrivePolicy } : {}),
  };

  if (!existing) {
    const attributes = { ...desired.immutable, ...wanted };
    if (!dryRun) {
      try {
        await client.send(new CreateQueueCommand({ QueueName: desired.fullName, Attributes: attributes }));
      } catch (error) {
        throw new SqsRequestError("CreateQueue", error, { queueUrl: desired.fullName });
      }
    }
    return { queue: desired.fullName, action: "create", details: describeAttributes(attributes, desired) };
  }

  const cannot = Object.entries(desired.immutable)
    .filter(([name, value]) => name === "FifoQueue" && (existing[name] ?? "false") !== value)
    .map(
      ([name, value]) =>
        `${name} is ${existing[name] ?? "false"}, wanted ${value}: SQS cannot change it; recreate the queue`,
    );
  const changes = Object.entries(wanted).filter(([name, value]) =>
    name === "RedrivePolicy" ? !sameRedrive(existing[name], value) : existing[name] !== value,
  );
  if (changes.length > 0 && !dryRun) {
    const url = await urls.resolve(desired.fullName);
    try {
      await client.send(new SetQueueAttributesCommand({ QueueUrl: url, Attributes: Object.fromEntries(changes) }));
    } catch (error) {
      throw new SqsRequestError("SetQueueAttributes", error, { queueUrl: url });
    }
  }
  const details = [
    ...changes.map(([name, value]) =>
      name === "RedrivePolicy"
        ? `RedrivePolicy → ${desired.redrive?.deadLetterName} after ${desired.redrive?.maxReceiveCount} receives`
        : `${name} ${existing[name] ?? "(unset)"} → ${value}`,
    ),
    ...cannot,
  ];
  return {
    queue: desired.fullName,
    action: cannot.length > 0 ? "cannot" : changes.length > 0 ? "update" : "ok",
    details,
  };
}

function describeAttributes(attributes: Record<string, string>, desired: Desired): string[] {
  return Object.entries(attributes).map(([name, value]) =>
    name === "RedrivePolicy"
      ? `RedrivePolicy → ${desired.redrive?.deadLetterName} after ${desired.redrive?.maxReceiveCount} receives`
      : `${name}=${value}`,
  );
}

function sameRedrive(current: string | undefined, wanted: string): boolean {
  const a = parseRedrivePolicy(current);
  const b = parseRedrivePolicy(wanted);
  return (
    a !== undefined &&
    b !== undefined &&
    a.deadLetterTargetArn === b.deadLetterTargetArn &&
    a.maxReceiveCount === b.maxReceiveCount
  );
}

async function arnOf(client: SQSClient, urls: QueueUrls, name: string): Promise<string | undefined> {
  const attributes = await readAttributes(client, urls, name, ["QueueArn"]);
  return attributes?.["QueueArn"];
}
