import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { PayloadFetchError, PayloadPointerError, loggableDecodeError } from "../../src/codecs/errors.js";
import { resolveConfig } from "../../src/config/resolve.js";
import { ValidationError } from "../../src/errors.js";
import { largePayloadsFor, shouldOffload } from "../../src/payloads/options.js";
import { declaredSize, isOffloaded, parsePointer, pointerBody, POINTER_CLASS } from "../../src/payloads/pointer.js";
import { fixture } from "../helpers/paths.js";

const attribute = (value: string) => ({ dataType: "Number", stringValue: value });

describe("the extended clients' pointer format", () => {
  it("writes the pointer byte for byte as the Java client does", () => {
    const written = readFileSync(fixture("payloads", "java-extended-client-2.body"), "utf8");
    assert.equal(pointerBody({ bucket: "sqsd-payloads", key: "9f6b1c3e-2a4d-4e8f-b5c7-0d1e2f3a4b5c" }), written);
  });

  it("reads the Java 2.x, Java 1.x and Python forms", () => {
    for (const name of ["java-extended-client-2", "java-extended-client-1-legacy", "python-sqs-extended-client"]) {
      const meta = JSON.parse(readFileSync(fixture("payloads", `${name}.json`), "utf8")) as {
        key: string;
        messageAttributes: Record<string, { StringValue: string }>;
      };
      const body = readFileSync(fixture("payloads", `${name}.body`), "utf8");
      assert.deepEqual(parsePointer(body), { bucket: "sqsd-payloads", key: meta.key }, name);
      const [attributeName, value] = Object.entries(meta.messageAttributes)[0]!;
      const attributes = { [attributeName]: attribute(value.StringValue) };
      assert.equal(isOffloaded(attributes), true, name);
      assert.equal(declaredSize(attributes), Number(value.StringValue), name);
    }
  });

  it("tells an offloaded message by its attribute, not by its body", () => {
    const body = pointerBody({ bucket: "b", key: "k" });
    assert.equal(isOffloaded({}), false, `${body} without the attribute is an ordinary body`);
    assert.equal(isOffloaded({ ExtendedPayloadSize: attribute("3") }), true);
    assert.equal(isOffloaded({ SQSLargePayloadSize: attribute("3") }), true);
  });

  it("refuses a malformed pointer without quoting the body", () => {
    const secret = "4111-1111-1111-1111";
    for (const body of [
      `not json ${secret}`,
      JSON.stringify({ card: secret }),
      JSON.stringify(["com.example.Other", { s3BucketName: secret, s3Key: "k" }]),
      JSON.stringify([POINTER_CLASS, { s3BucketName: secret }]),
    ]) {
      assert.throws(
        () => parsePointer(body),
        (error: unknown) =>
          error instanceof PayloadPointerError &&
          !String(error.message).includes(secret) &&
          loggableDecodeError(error) === error,
      );
    }
  });

  it("names bucket and key of a missing object, and keeps that message when it crosses to the supervisor", () => {
    const error = new PayloadFetchError("bucket", "some/key", true, "NoSuchKey: The specified key does not exist.");
    assert.equal(error.code, "SQSD_PAYLOAD_MISSING");
    assert.match(loggableDecodeError(error).message, /s3:\/\/bucket\/some\/key does not exist/);
    assert.equal(new PayloadFetchError("b", "k", false, "timeout").code, "SQSD_PAYLOAD_FETCH");
  });
});

describe("when a body goes to S3", () => {
  const options = { bucket: "b" };

  it("goes past the queue's MaximumMessageSize minus room for attributes by default, or past thresholdBytes", () => {
    assert.equal(shouldOffload(options, 262_144 - 1_024, 262_144), false);
    assert.equal(shouldOffload(options, 262_144 - 1_023, 262_144), true);
    assert.equal(shouldOffload({ ...options, thresholdBytes: 100 }, 100, 262_144), false);
    assert.equal(shouldOffload({ ...options, thresholdBytes: 100 }, 101, 262_144), true);
    assert.equal(shouldOffload({ ...options, always: true }, 1, 262_144), true);
  });

  it("never keeps inline a message past the queue's limit, whatever thresholdBytes says", () => {
    const high = { ...options, thresholdBytes: 1_048_576 };
    assert.equal(shouldOffload(high, 262_144, 262_144), false);
    assert.equal(shouldOffload(high, 262_145, 262_144), true);
  });

  it("takes a receiver's own settings whole, and false turns them off", () => {
    const settings = { largePayloads: { bucket: "global", deleteAfterProcessing: true } };
    assert.deepEqual(largePayloadsFor({}, settings), settings.largePayloads);
    assert.deepEqual(largePayloadsFor({ largePayloads: { bucket: "own" } }, settings), { bucket: "own" });
    assert.equal(largePayloadsFor({ largePayloads: false }, settings), undefined);
    assert.equal(largePayloadsFor({}, {}), undefined);
  });
});

describe("config largePayloads", () => {
  const context = { configPath: "/app/sqs.config.ts", env: {}, cores: 2, isTTY: false };
  const problems = (largePayloads: unknown): string => {
    try {
      resolveConfig({ receivers: ["./r.ts"], largePayloads }, context);
    } catch (error) {
      assert.ok(error instanceof ValidationError);
      return error.message;
    }
    return assert.fail("accepted");
  };

  it("is kept as written, and absent when not set", () => {
    const written = { bucket: "my-bucket", prefix: "sqsd/", thresholdBytes: 65_536, deleteAfterProcessing: true };
    assert.deepEqual(resolveConfig({ receivers: ["./r.ts"], largePayloads: written }, context).largePayloads, written);
    assert.equal("largePayloads" in resolveConfig({ receivers: ["./r.ts"] }, context), false);
  });

  it("names the field and the value it refuses", () => {
    assert.match(problems({ bucket: "My_Bucket" }), /largePayloads\.bucket must be an S3 bucket name.*got "My_Bucket"/);
    assert.match(
      problems({ bucket: "ok-bucket", thresholdBytes: 2_000_000 }),
      /largePayloads\.thresholdBytes must be an integer 0\.\.1048576, got 2000000/,
    );
    assert.match(
      problems({ bucket: "ok-bucket", s3Endpoint: "localhost:4566" }),
      /largePayloads\.s3Endpoint must be an http\(s\) URL/,
    );
    assert.match(problems({ prefix: "x/" }), /largePayloads\.bucket must be an S3 bucket name/);
  });
});
