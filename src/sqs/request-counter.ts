import type { SQSClient } from "@aws-sdk/client-sqs";
import { LeanSqs } from "./lean/lean-sqs.js";

/** Anything the daemon sends SQS requests with: a full client, or the lean path beside one. */
export type SqsRequestSource = SQSClient | LeanSqs;

/**
 * Calls `count` with the action's name (`ReceiveMessage`, ...) for every attempt `source` makes, retries
 * included, since every attempt is billed. For a full client, a middleware below the SDK's retry step; for the
 * lean path, its own per-attempt hook, which runs at the same point of its retry loop.
 */
export function countSqsRequests(source: SqsRequestSource, count: (action: string) => void): void {
  if (source instanceof LeanSqs) {
    source.onAttempt(count);
    return;
  }
  source.middlewareStack.add(
    (next, context) => async (args) => {
      count((context.commandName ?? "unknown").replace(/Command$/, ""));
      return next(args);
    },
    { step: "finalizeRequest", priority: "low", name: "sqsdRequestCounter" },
  );
}
