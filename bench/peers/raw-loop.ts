/**
 * The baseline consumer: the least a program can do to consume a queue with @aws-sdk/client-sqs. `loops`
 * concurrent loops (16 by default) each receive up to 10 messages with a 20 s long poll, run the work on each
 * in turn, and delete them in one DeleteMessageBatch, on an SQS client with default settings. No heartbeat, no retry policy, no isolation: what sqsd
 * adds to this is what its overhead buys.
 *
 * Run by the bench (lib.ts `startPeer`) with a {@link PeerRun} as JSON in its first argument.
 */
import { DeleteMessageBatchCommand, ReceiveMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { Agent } from "node:http";
import type { PeerRun } from "../consumers.js";
import { BENCH_CREDENTIALS } from "../lib.js";
import { workFromEnv } from "../receivers/work.js";

const run = JSON.parse(process.argv[2]!) as PeerRun;
const loops = run.loops ?? 16;
const work = workFromEnv();
// The client as a user writes it, every setting at its default: the SDK's own keep-alive agent has 50 sockets,
// enough for 16 long polls and their deletes on one queue. A user polling more queues than that must give it
// a socket per long poll, or the polls beyond 50 wait for a socket: so does the bench (the bursts scenario).
const longPolls = run.queueUrls.length * loops;
const client = new SQSClient({
  endpoint: run.endpoint,
  region: "us-east-1",
  credentials: BENCH_CREDENTIALS,
  ...(longPolls + 16 > 50
    ? { requestHandler: { httpAgent: new Agent({ keepAlive: true, maxSockets: longPolls + 16 }) } }
    : {}),
});

async function loop(queueUrl: string): Promise<never> {
  for (;;) {
    const { Messages = [] } = await client.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 20 }),
    );
    if (Messages.length === 0) continue;
    for (const message of Messages) await work(message.Body);
    await client.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: Messages.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle })),
      }),
    );
  }
}

for (const queueUrl of run.queueUrls) {
  for (let index = 0; index < loops; index += 1) {
    loop(queueUrl).catch((error: unknown) => {
      console.error("raw loop failed:", error);
      process.exit(1);
    });
  }
}
console.log("ready");
