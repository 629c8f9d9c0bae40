import type { LargePayloadsOptions } from "../config/types.js";
import type { RegisteredQueue } from "../registry/types.js";
import { largePayloadsFor } from "../payloads/options.js";
import type { SqsSettings } from "../sqs/settings.js";

/** What `sqsd init` found for one large-payload bucket. */
export interface BucketStep {
  /** `s3://bucket`. */
  readonly bucket: string;
  readonly action: "ok" | "create" | "missing";
  readonly details: string[];
}

/**
 * Fails the start (exit 2, {@link MissingPackageError}) when any queue uses `largePayloads` and
 * `@aws-sdk/client-s3` is not installed: otherwise the first large message would fail in a thread, and each
 * offloaded message would go to its dead-letter queue.
 */
export async function requireS3IfLargePayloads(
  settings: SqsSettings,
  registered: readonly RegisteredQueue[],
): Promise<void> {
  if (payloadOptions(settings, registered).size === 0) return;
  const { importS3 } = await import("../payloads/s3-store.js");
  await importS3();
}

/** Every distinct `largePayloads` setting: the config's and each receiver's own, by endpoint and bucket. */
function payloadOptions(
  settings: SqsSettings,
  registered: readonly RegisteredQueue[],
): Map<string, LargePayloadsOptions> {
  const buckets = new Map<string, LargePayloadsOptions>();
  const all = [settings.largePayloads, ...registered.map((queue) => largePayloadsFor(queue.options, settings))];
  for (const item of all) if (item) buckets.set(`${item.s3Endpoint ?? ""} ${item.bucket}`, item);
  return buckets;
}

/**
 * The buckets of `largePayloads` (the config's and every receiver's own): each is checked with HeadBucket, and
 * created only with `createBucket` (`sqsd init --create-bucket`). sqsd never creates a bucket otherwise: a
 * bucket's region, encryption, lifecycle and access policy are decisions for whoever owns the account. A
 * missing bucket is reported (exit 1), since every offloaded send would fail.
 */
export async function checkPayloadBuckets(
  settings: SqsSettings,
  registered: readonly RegisteredQueue[],
  options: { readonly createBucket: boolean; readonly dryRun: boolean },
): Promise<BucketStep[]> {
  const buckets = payloadOptions(settings, registered);
  if (buckets.size === 0) return [];
  const { checkBucket } = await import("../payloads/s3-store.js");
  const steps: BucketStep[] = [];
  for (const item of buckets.values()) {
    const state = await checkBucket(item, options.createBucket && !options.dryRun);
    const bucket = `s3://${item.bucket}`;
    if (state === "exists") steps.push({ bucket, action: "ok", details: ["bucket exists"] });
    else if (state === "created") steps.push({ bucket, action: "create", details: ["bucket created"] });
    else if (options.createBucket) steps.push({ bucket, action: "create", details: ["bucket does not exist"] });
    else {
      steps.push({
        bucket,
        action: "missing",
        details: ["bucket does not exist: create it, or run `sqsd init --create-bucket`"],
      });
    }
  }
  return steps;
}
