import { threadId } from "node:worker_threads";
import { receiver, RestartLater, type ReceivedMessage } from "sqsd";

/** A receiver named after its function: the queue is `greet`. */
export const greet = receiver(async function greet(message: ReceivedMessage<{ name: string }>) {
  console.log(`[thread ${threadId}] hello, ${message.body.name}`);
});

/** A queue with a declared suffix: the daemon consumes both `thumbnails` and `thumbnails__big`. */
export const makeThumbnail = receiver<{ imageId: number }>(
  "thumbnails",
  { suffixes: ["big"], visibilityTimeoutSeconds: 60 },
  async (message) => {
    await new Promise((resolve) => setTimeout(resolve, message.queue.suffix === "big" ? 300 : 50));
    console.log(`[thread ${threadId}] thumbnail for image ${message.body.imageId} (${message.queue.fullName})`);
  },
);

/** Leaves its message in the queue once, then succeeds: RestartLater is not an error. */
export const chargeCard = receiver<{ orderId: string }>("payments", async (message) => {
  if (message.receiveCount === 1) {
    throw new RestartLater({ delaySeconds: 1, reason: "payment provider busy, trying again in 1 s" });
  }
  console.log(`[thread ${threadId}] charged order ${message.body.orderId} on attempt ${message.receiveCount}`);
});
