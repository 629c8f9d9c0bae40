import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { describe, it } from "node:test";
import { memoryStore } from "../../src/idempotency/memory-store.js";
import type { HandlerTask } from "../../src/pool/protocol.js";
import { RateLimited } from "../../src/rate-limited.js";
import type { ReceivedMessage, RegisteredQueue } from "../../src/registry/types.js";
import { runGuardedHandler } from "../../workers/idempotent-call.js";

/** A single-message idempotent queue whose handler is `run`, in the shape the pool thread sees. */
function queue(run: (message: ReceivedMessage) => Promise<unknown>): RegisteredQueue {
  return {
    name: "idem-call",
    fullName: "idem-call",
    fullNameFor: () => "idem-call",
    fifo: false,
    options: { idempotency: { store: memoryStore("idem-call") } },
    codec: undefined as never,
    handler: { kind: "single", run },
  } as unknown as RegisteredQueue;
}

const task: HandlerTask = { queue: "idem-call", suffix: undefined, fullName: "idem-call", runs: [] };
const message = (): ReceivedMessage => ({ id: randomUUID(), body: {} }) as unknown as ReceivedMessage;

describe("runGuardedHandler", () => {
  it("settles a RateLimited thrown by an idempotent receiver as a rate-limited restart, and frees its key", async () => {
    let runs = 0;
    const limited = queue(async () => {
      runs++;
      throw new RateLimited({ retryAfterSeconds: 7, reason: "429 from the API" });
    });
    const delivery = message();
    const [outcome] = await runGuardedHandler(task, limited, [delivery], () => 1);
    assert.deepEqual(outcome, {
      kind: "restartLater",
      delaySeconds: 7,
      rateLimitedSeconds: 7,
      reason: "429 from the API",
      durationMs: 1,
    });
    // The key was released: the next delivery runs the handler again.
    await runGuardedHandler(task, limited, [delivery], () => 1);
    assert.equal(runs, 2);
  });
});
