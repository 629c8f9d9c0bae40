import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { SqsRequestError } from "../../src/errors.js";
import { failureKind, isRetryable } from "../../src/failure-kind.js";

/** Errors shaped as the AWS SDK shapes them: a name (the AWS code) and $metadata.httpStatusCode. */
function awsError(name: string, httpStatusCode?: number): Error {
  return Object.assign(new Error(name), { name, $metadata: { httpStatusCode } });
}

describe("failure kinds", () => {
  it("tells transient faults, throttling, refused credentials and bad requests apart", () => {
    assert.equal(failureKind(Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" })), "transient");
    assert.equal(failureKind(awsError("InternalError", 500)), "transient");
    assert.equal(failureKind(awsError("ServiceUnavailable", 503)), "transient");
    assert.equal(failureKind(awsError("ThrottlingException", 400)), "throttle");
    assert.equal(failureKind(awsError("RequestThrottled", 403)), "throttle");
    assert.equal(failureKind(awsError("AccessDenied", 403)), "auth");
    assert.equal(failureKind(awsError("InvalidClientTokenId", 403)), "auth");
    assert.equal(failureKind(awsError("SignatureDoesNotMatch", 403)), "auth");
    assert.equal(failureKind(awsError("CredentialsProviderError")), "auth");
    assert.equal(failureKind(awsError("QueueDoesNotExist", 400)), "client");
    assert.equal(failureKind(new SqsRequestError("ReceiveMessage", awsError("AccessDenied", 403))), "auth");
  });

  it("retries only what a retry can fix", () => {
    assert.ok(isRetryable(awsError("InternalError", 500)));
    assert.ok(isRetryable(awsError("ThrottlingException", 400)));
    assert.ok(!isRetryable(awsError("AccessDenied", 403)));
    assert.ok(!isRetryable(awsError("QueueDoesNotExist", 400)));
  });
});
