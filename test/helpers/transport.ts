import type { SqsTransport } from "../../src/sqs/hot-path.js";

/**
 * The hot-path transport in-process tests build: the daemon's default (`lean`), or the one named by
 * `SQSD_TEST_SQS_TRANSPORT` (`sdk`), so a suite can be run against the full SDK client too.
 */
export function testTransport(): SqsTransport {
  return process.env["SQSD_TEST_SQS_TRANSPORT"] === "sdk" ? "sdk" : "lean";
}
