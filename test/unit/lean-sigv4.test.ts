import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { SQSClient } from "@aws-sdk/client-sqs";
import type { AwsCredentialIdentity, RequestSigner } from "@smithy/types";
import { isSdkSigV4, SigV4 } from "../../src/sqs/lean/sigv4.js";

/**
 * The lean path's SigV4 against the SDK's own `SignatureV4`, taken from an `SQSClient` as the lean path takes
 * it: the same request, date and credentials must give the same headers, byte for byte, whether the signing
 * key and body hash are fresh or kept, and a kept key must give way to new credentials or a new day.
 */

/**
 * A credentials provider whose answer the test changes. Each answer expires within the SDK's 5-minute refresh
 * window, so the client's memoized provider asks again on every request, as it does for a rotating role.
 */
function changingCredentials(first: AwsCredentialIdentity): {
  provider: () => Promise<AwsCredentialIdentity>;
  set: (next: AwsCredentialIdentity) => void;
} {
  let current = first;
  return {
    provider: () => Promise.resolve({ ...current, expiration: new Date(Date.now() + 60_000) }),
    set: (next) => (current = next),
  };
}

async function sdkSigner(client: SQSClient, region: string): Promise<RequestSigner> {
  const config = client.config as unknown as { signer: (scheme: object) => Promise<RequestSigner> };
  return config.signer({ name: "sigv4", signingName: "sqs", signingRegion: region, properties: {} });
}

/** The headers the lean path sends for one receive, before signing. */
function leanHeaders(body: string, attempt: number): Record<string, string> {
  return {
    "content-type": "application/x-amz-json-1.0",
    "x-amz-target": "AmazonSQS.ReceiveMessage",
    "x-amzn-query-mode": "true",
    "content-length": String(Buffer.byteLength(body)),
    "x-amz-user-agent": "aws-sdk-js/3.0.0",
    "user-agent": "aws-sdk-js/3.0.0 ua/2.1 app/sqsd-lean",
    host: "sqs.eu-west-1.amazonaws.com",
    "amz-sdk-invocation-id": "0b4c9a3e-8b8f-4d1e-9a57-3c1e0b6d1f2a",
    "amz-sdk-request": `attempt=${attempt}; max=3`,
  };
}

describe("the lean path's SigV4", () => {
  const region = "eu-west-1";
  const body = JSON.stringify({ QueueUrl: "https://sqs.eu-west-1.amazonaws.com/1/q", MaxNumberOfMessages: 10 });

  const signBoth = async (
    signer: RequestSigner,
    sigV4: SigV4,
    signingDate: Date,
    requestBody = body,
    attempt = 1,
    repeats = true,
  ): Promise<{ sdk: Record<string, string>; lean: Record<string, string> }> => {
    const signed = await signer.sign(
      {
        method: "POST",
        protocol: "https:",
        hostname: "sqs.eu-west-1.amazonaws.com",
        path: "/",
        query: {},
        headers: leanHeaders(requestBody, attempt),
        body: requestBody,
      },
      { signingDate, signingRegion: region, signingService: "sqs" },
    );
    const lean = await sigV4.sign({
      canonicalPath: sigV4.canonicalPath("/"),
      headers: leanHeaders(requestBody, attempt),
      body: requestBody,
      repeats,
      signingDate,
      signingRegion: region,
      signingService: "sqs",
    });
    return { sdk: signed.headers, lean };
  };

  it("signs as the SDK's SignatureV4 does, with and without a session token, kept key or fresh", async () => {
    const credentials = changingCredentials({ accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret/one" });
    const client = new SQSClient({ region, credentials: credentials.provider });
    try {
      const signer = await sdkSigner(client, region);
      assert.ok(isSdkSigV4(signer), "an SQSClient's signer is the SDK's SignatureV4");
      const sigV4 = new SigV4(signer);
      const date = new Date("2026-12-07T20:15:30.123Z");
      for (const attempt of [1, 2]) {
        const { sdk, lean } = await signBoth(signer, sigV4, date, body, attempt);
        assert.deepEqual(lean, sdk);
      }
      credentials.set({ accessKeyId: "ASIAEXAMPLE", secretAccessKey: "secret/two", sessionToken: "token+1" });
      const rotated = await signBoth(signer, sigV4, date);
      assert.deepEqual(rotated.lean, rotated.sdk);
      assert.ok(rotated.lean["authorization"]?.includes("Credential=ASIAEXAMPLE/20261207/eu-west-1/sqs/"));
      assert.equal(rotated.lean["x-amz-security-token"], "token+1");
      const nextDay = await signBoth(signer, sigV4, new Date("2026-12-08T00:00:01Z"));
      assert.deepEqual(nextDay.lean, nextDay.sdk);
      const otherBody = await signBoth(signer, sigV4, date, `${body} `);
      assert.deepEqual(otherBody.lean, otherBody.sdk);
    } finally {
      client.destroy();
    }
  });

  it("gives a new signature for a new secret under the same access key id", async () => {
    const credentials = changingCredentials({ accessKeyId: "AKIDEXAMPLE", secretAccessKey: "first" });
    const client = new SQSClient({ region, credentials: credentials.provider });
    try {
      const signer = await sdkSigner(client, region);
      assert.ok(isSdkSigV4(signer));
      const sigV4 = new SigV4(signer);
      const date = new Date("2026-12-07T20:15:30Z");
      const before = await signBoth(signer, sigV4, date);
      credentials.set({ accessKeyId: "AKIDEXAMPLE", secretAccessKey: "second" });
      const after = await signBoth(signer, sigV4, date);
      assert.deepEqual(after.lean, after.sdk);
      assert.notEqual(after.lean["authorization"], before.lean["authorization"]);
    } finally {
      client.destroy();
    }
  });

  it("keeps the hash of a body that repeats (a receive) and of no other (deletes carry receipt handles)", async () => {
    const client = new SQSClient({ region, credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "s" } });
    try {
      const signer = await sdkSigner(client, region);
      assert.ok(isSdkSigV4(signer));
      const sigV4 = new SigV4(signer);
      const date = new Date("2026-12-07T20:15:30Z");
      for (let i = 0; i < 20; i++) {
        const deleteBody = JSON.stringify({ QueueUrl: "q", Entries: [{ Id: "0", ReceiptHandle: `handle-${i}` }] });
        const { sdk, lean } = await signBoth(signer, sigV4, date, deleteBody, 1, false);
        assert.deepEqual(lean, sdk);
      }
      assert.equal(sigV4.keptBodyHashes, 0, "no delete body kept");
      for (let i = 0; i < 3; i++) {
        const { sdk, lean } = await signBoth(signer, sigV4, date);
        assert.deepEqual(lean, sdk);
      }
      assert.equal(sigV4.keptBodyHashes, 1, "one receive body kept, however often it is sent");
    } finally {
      client.destroy();
    }
  });

  it("leaves any other signer to sign for itself", () => {
    assert.equal(isSdkSigV4({ sign: () => Promise.resolve({}) }), false);
    assert.equal(isSdkSigV4(null), false);
  });
});
