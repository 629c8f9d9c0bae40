import { appendFileSync } from "node:fs";
import type { ReceivedMessage } from "sqsd";

/**
 * The chaos run's handlers: random latency, a 2% chance of throwing, and one message that kills its thread.
 * Every success is recorded (queue and message id) in $CHAOS_EVENTS, so the run can count what was processed.
 */
/** A chaos message's body. */
export interface ChaosBody {
  readonly n: number;
  readonly killThread?: boolean;
}

/** One chaos handler run (shared with the idempotent mode's receivers). */
export async function handle(message: ReceivedMessage<ChaosBody>): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 20 + Math.random() * 80));
  if (message.body.killThread && message.receiveCount === 1) process.exit(1);
  if (Math.random() < 0.02) throw new Error("chaos: a random failure");
  appendFileSync(process.env["CHAOS_EVENTS"] ?? "/dev/null", `${message.queue.name} ${message.id}\n`);
}
