import {
  CreateBucketCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  GetObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { TEST_CREDENTIALS, TEST_REGION } from "./local-sqs.js";

/** A bucket on the local server (fauxqs serves S3 on its SQS endpoint), seen the way any S3 user sees it. */
export class TestBucket {
  readonly client: S3Client;
  readonly name: string;
  readonly endpoint: string;

  private constructor(client: S3Client, name: string, endpoint: string) {
    this.client = client;
    this.name = name;
    this.endpoint = endpoint;
  }

  static async create(endpoint: string, name = "sqsd-payloads"): Promise<TestBucket> {
    const client = new S3Client({
      endpoint,
      region: TEST_REGION,
      credentials: TEST_CREDENTIALS,
      forcePathStyle: true,
    });
    await client.send(new CreateBucketCommand({ Bucket: name }));
    return new TestBucket(client, name, endpoint);
  }

  /** The options a config's `largePayloads` needs for this bucket. */
  options(extra: Record<string, unknown> = {}): Record<string, unknown> {
    return { bucket: this.name, s3Endpoint: this.endpoint, ...extra };
  }

  async keys(): Promise<string[]> {
    const { Contents = [] } = await this.client.send(new ListObjectsV2Command({ Bucket: this.name }));
    return Contents.map((object) => object.Key ?? "");
  }

  async put(key: string, body: string): Promise<void> {
    await this.client.send(new PutObjectCommand({ Bucket: this.name, Key: key, Body: body }));
  }

  async get(key: string): Promise<string> {
    const { Body } = await this.client.send(new GetObjectCommand({ Bucket: this.name, Key: key }));
    return (await Body?.transformToString("utf8")) ?? "";
  }

  close(): void {
    this.client.destroy();
  }
}
