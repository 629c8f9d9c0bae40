/**
 * The S3 side of large payloads: put, streamed get, delete, and the bucket check of `sqsd init`. Only ever
 * imported dynamically (by offload.ts, fetch.ts, the supervisor's payload cleaner and `sqsd init`), and only
 * when `largePayloads` is configured: `@aws-sdk/client-s3` is an optional peer dependency, and a thread that
 * never meets a large payload must not pay for loading it.
 */
import type { S3Client } from "@aws-sdk/client-s3";
import { Agent } from "node:http";
import { Agent as HttpsAgent } from "node:https";
import { StringDecoder } from "node:string_decoder";
import type { LargePayloadsOptions } from "../config/types.js";
import { PayloadStoreError } from "../errors.js";
import { optionalPackage } from "../optional-package.js";
import { currentSqsSettings, settingsGeneration } from "../sqs/settings.js";
import type { S3Location } from "./pointer.js";
import { PayloadTooLargeError } from "./too-large.js";

type S3Module = typeof import("@aws-sdk/client-s3");

/** Imports `@aws-sdk/client-s3`, or throws a {@link MissingPackageError} that says how to install it. */
export const importS3: () => Promise<S3Module> = optionalPackage(
  () => import("@aws-sdk/client-s3"),
  "@aws-sdk/client-s3",
  "largePayloads",
  "remove largePayloads from the config and the receivers",
);

const clients = new Map<string, { generation: number; client: S3Client }>();

/**
 * This thread's S3 client for an endpoint: the SQS settings' region and credentials (else the SDK's chain, as
 * for SQS), path-style requests with a custom endpoint (local servers seldom resolve bucket subdomains).
 */
async function clientFor(ownEndpoint: string | undefined): Promise<S3Client> {
  const { S3Client } = await importS3();
  // Options without an endpoint (a receiver's own largePayloads, say) use the settings' (the embedded server's).
  const s3Endpoint = ownEndpoint ?? currentSqsSettings().s3Endpoint;
  const generation = settingsGeneration();
  const cacheKey = s3Endpoint ?? "";
  const cached = clients.get(cacheKey);
  if (cached?.generation === generation) return cached.client;
  cached?.client.destroy();
  const settings = currentSqsSettings();
  const agentOptions = { keepAlive: true, maxSockets: 50 };
  const client = new S3Client({
    region: settings.region,
    ...(s3Endpoint === undefined ? {} : { endpoint: s3Endpoint, forcePathStyle: true }),
    ...(settings.credentials === undefined ? {} : { credentials: settings.credentials }),
    requestHandler: {
      httpAgent: new Agent(agentOptions),
      httpsAgent: new HttpsAgent(agentOptions),
      connectionTimeout: 5_000,
      requestTimeout: 60_000,
    },
  });
  clients.set(cacheKey, { generation, client });
  return client;
}

/** What every S3 operation needs to know: where S3 is. */
type Endpoint = Pick<LargePayloadsOptions, "s3Endpoint">;

/** Writes a body as one object. */
export async function putPayload(options: Endpoint, location: S3Location, body: Buffer): Promise<void> {
  const { PutObjectCommand } = await importS3();
  const client = await clientFor(options.s3Endpoint);
  try {
    await client.send(
      new PutObjectCommand({ Bucket: location.bucket, Key: location.key, Body: body, ContentLength: body.length }),
    );
  } catch (error) {
    throw new PayloadStoreError("PutObject", location, error);
  }
}

/**
 * Reads an object as UTF-8 text, decoding its stream chunk by chunk: the body is held once, as the string the
 * codec gets, never also as one large Buffer. An object over `maxBytes` (by its ContentLength, or by what
 * streams in) is dropped unread with a {@link PayloadTooLargeError}. Any other failure is a
 * {@link PayloadStoreError}; `missing` tells a deleted object from an outage.
 */
export async function getPayloadText(
  options: Endpoint,
  location: S3Location,
  maxBytes: number,
  signal?: AbortSignal,
): Promise<string> {
  const { GetObjectCommand } = await importS3();
  const client = await clientFor(options.s3Endpoint);
  try {
    const output = await client.send(
      new GetObjectCommand({ Bucket: location.bucket, Key: location.key }),
      signal ? { abortSignal: signal } : {},
    );
    const stream = output.Body as (AsyncIterable<Uint8Array> & { destroy?: () => void }) | undefined;
    if (!stream) return "";
    if (output.ContentLength !== undefined && output.ContentLength > maxBytes) {
      stream.destroy?.();
      throw new PayloadTooLargeError(output.ContentLength, "is");
    }
    const decoder = new StringDecoder("utf8");
    let text = "";
    let bytes = 0;
    for await (const chunk of stream) {
      bytes += chunk.length;
      // Leaving the loop ends the iterator, which destroys the stream: the rest is never downloaded.
      if (bytes > maxBytes) throw new PayloadTooLargeError(bytes, "streamed over");
      text += decoder.write(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length));
    }
    return text + decoder.end();
  } catch (error) {
    if (error instanceof PayloadTooLargeError) throw error;
    throw new PayloadStoreError("GetObject", location, error);
  }
}

/** Deletes an object; S3 answers success for a key that is already gone. */
export async function deletePayload(options: Endpoint, location: S3Location): Promise<void> {
  const { DeleteObjectCommand } = await importS3();
  const client = await clientFor(options.s3Endpoint);
  try {
    await client.send(new DeleteObjectCommand({ Bucket: location.bucket, Key: location.key }));
  } catch (error) {
    throw new PayloadStoreError("DeleteObject", location, error);
  }
}

/** What {@link checkBucket} found. */
export type BucketState = "exists" | "missing" | "created";

/** HeadBucket, and with `create` a CreateBucket for a missing one. */
export async function checkBucket(options: LargePayloadsOptions, create: boolean): Promise<BucketState> {
  const { HeadBucketCommand, CreateBucketCommand } = await importS3();
  const client = await clientFor(options.s3Endpoint);
  try {
    await client.send(new HeadBucketCommand({ Bucket: options.bucket }));
    return "exists";
  } catch (error) {
    const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if (status !== 404) throw new PayloadStoreError("HeadBucket", { bucket: options.bucket, key: "" }, error);
  }
  if (!create) return "missing";
  try {
    await client.send(new CreateBucketCommand({ Bucket: options.bucket }));
  } catch (error) {
    throw new PayloadStoreError("CreateBucket", { bucket: options.bucket, key: "" }, error);
  }
  return "created";
}

/** Closes this thread's S3 clients (their keep-alive sockets). */
export function closeS3Clients(): void {
  for (const { client } of clients.values()) client.destroy();
  clients.clear();
}
