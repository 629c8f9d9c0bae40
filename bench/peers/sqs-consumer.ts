/**
 * sqs-consumer (bbc/sqs-consumer), configured as its README suggests plus the largest batch: one Consumer per
 * queue, `batchSize: 10`, a 20 s long poll, one shared SQS client. `mode` picks `handleMessage` (the work runs
 * per message, the 10 of a receive concurrently, each deleted with its own DeleteMessage) or
 * `handleMessageBatch` (one call per receive, then one DeleteMessageBatch). Handlers run on this process's
 * only thread.
 *
 * Run by the bench (lib.ts `startPeer`) with a {@link PeerRun} as JSON in its first argument.
 */
import { Consumer } from "sqs-consumer";
import type { PeerRun } from "../consumers.js";
import { benchClient } from "../lib.js";
import { workFromEnv } from "../receivers/work.js";

const run = JSON.parse(process.argv[2]!) as PeerRun;
const work = workFromEnv();
// One long poll per queue at a time, plus room for the deletes of every queue's last receive.
const client = benchClient(run.endpoint, run.queueUrls.length * 2 + 16);

for (const queueUrl of run.queueUrls) {
  const consumer = Consumer.create({
    queueUrl,
    sqs: client,
    batchSize: 10,
    waitTimeSeconds: 20,
    ...(run.mode === "batch"
      ? {
          handleMessageBatch: async (messages) => {
            for (const message of messages) await work(message.Body);
            return messages;
          },
        }
      : {
          handleMessage: async (message) => {
            await work(message.Body);
            return message;
          },
        }),
  });
  consumer.on("error", (error) => console.error("sqs-consumer error:", error.message));
  consumer.on("processing_error", (error) => console.error("sqs-consumer processing error:", error.message));
  consumer.start();
}
console.log("ready");
