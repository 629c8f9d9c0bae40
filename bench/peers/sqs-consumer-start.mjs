// sqs-consumer as its users run it, compiled JavaScript with no loader, for the start-up scenario
// (bench/scenarios/startup.ts): one Consumer on one queue, its handler appending `<queue> <wall clock ms>` to
// BENCH_EVENTS. Plain JavaScript on purpose: `--import tsx` would add tsx's own start-up to the peer's time.
// Run with a PeerRun as JSON in its first argument (bench/consumers.ts).
import { appendFileSync } from "node:fs";
import { Agent } from "node:http";
import { SQSClient } from "@aws-sdk/client-sqs";
import { Consumer } from "sqs-consumer";

const run = JSON.parse(process.argv[2]);
const eventsFile = process.env.BENCH_EVENTS;
const client = new SQSClient({
  endpoint: run.endpoint,
  region: "us-east-1",
  requestHandler: { httpAgent: new Agent({ keepAlive: true }) },
});
for (const queueUrl of run.queueUrls) {
  const consumer = Consumer.create({
    queueUrl,
    sqs: client,
    batchSize: 10,
    waitTimeSeconds: 20,
    handleMessage: async (message) => {
      appendFileSync(eventsFile, `startup ${(performance.timeOrigin + performance.now()).toFixed(1)}\n`);
      return message;
    },
  });
  consumer.on("error", (error) => console.error("sqs-consumer error:", error.message));
  consumer.start();
}
console.log("ready");
