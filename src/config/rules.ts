/**
 * The single place where sqsd's inputs are validated: the config file and receiver options. Each rule reads
 * as the message a user sees (`must be an integer 1..256`), and every failure names the field path and the
 * value received, except where that value can be a secret (see {@link SECRET_KEY}).
 */
import { z } from "zod";
import { ValidationError, type FieldProblem } from "../errors.js";
import { kindOfValue } from "../describe-value.js";
import { SQS_LIMITS } from "../limits.js";
import { namePartProblem, queueNameProblem } from "../queue-names.js";
import { isCodecName } from "../codecs/codec.js";
import { isStandardSchema } from "../codecs/schema.js";
import { schedulesSchema } from "./schedules.js";

function integer(min: number, max: number) {
  const rule = `must be an integer ${min}..${max}`;
  return z.number({ error: rule }).int({ error: rule }).min(min, { error: rule }).max(max, { error: rule });
}

function nonEmptyString(rule = "must be a non-empty string") {
  return z.string({ error: rule }).min(1, { error: rule });
}

const boolean = z.boolean({ error: "must be true or false" });

const namePart = z.string({ error: "must be a string" }).superRefine((value, context) => {
  const problem = namePartProblem(value);
  if (problem) context.addIssue({ code: "custom", message: problem, input: value });
});

const func = z.custom<(...args: never[]) => unknown>((value) => typeof value === "function", {
  error: "must be a function",
});

const backoff = z
  .strictObject({
    initialMs: integer(1, 3_600_000).optional(),
    maxMs: integer(1, 3_600_000).optional(),
  })
  .refine((value) => value.initialMs === undefined || value.maxMs === undefined || value.initialMs <= value.maxMs, {
    error: "must have initialMs <= maxMs",
  });

const deadLetter = z.union(
  [
    z.literal(false),
    z.strictObject({
      maxReceiveCount: integer(1, 1_000),
      queueName: z
        .string({ error: "must be a string" })
        .refine((value) => queueNameProblem(value) === undefined, { error: "must be a valid queue name" })
        .optional(),
    }),
  ],
  { error: "must be false or { maxReceiveCount, queueName? }" },
);

const retry = z.union(
  [
    z.literal(false),
    z.strictObject({
      backoff: z.literal("exponential", { error: 'must be "exponential"' }),
      baseSeconds: integer(1, SQS_LIMITS.maxVisibilityTimeoutSeconds).optional(),
      maxSeconds: integer(1, SQS_LIMITS.maxVisibilityTimeoutSeconds).optional(),
    }),
    z.array(integer(0, SQS_LIMITS.maxVisibilityTimeoutSeconds)).min(1, { error: "must list at least one delay" }),
  ],
  { error: 'must be false, { backoff: "exponential", baseSeconds?, maxSeconds? } or a list of delays in seconds' },
);

/**
 * S3 bucket names as S3 accepts them for new buckets: 3..63 lowercase letters, digits, dots and hyphens,
 * starting and ending with a letter or digit.
 */
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

const bucketName = z
  .string({ error: "must be an S3 bucket name" })
  .regex(BUCKET_NAME, { error: "must be an S3 bucket name (3..63 lowercase letters, digits, dots, hyphens)" });

const largePayloads = z.strictObject(
  {
    bucket: bucketName,
    prefix: z.string({ error: "must be a string" }).max(512, { error: "must be at most 512 characters" }).optional(),
    thresholdBytes: integer(0, SQS_LIMITS.maxMessageBytes).optional(),
    always: boolean.optional(),
    deleteAfterProcessing: boolean.optional(),
    maxPayloadBytes: integer(1, Number.MAX_SAFE_INTEGER).optional(),
    allowedBuckets: z.array(bucketName, { error: "must be an array of S3 bucket names" }).optional(),
    s3Endpoint: nonEmptyString("must be an http(s) URL")
      .refine((value) => /^https?:\/\/\S+$/.test(value), { error: "must be an http(s) URL" })
      .optional(),
  },
  {
    error:
      "must be { bucket, prefix?, thresholdBytes?, always?, deleteAfterProcessing?, maxPayloadBytes?, allowedBuckets?, s3Endpoint? }",
  },
);

/** Schema of `sqs.config.ts` as users write it. */
export const configSchema = z.strictObject(
  {
    region: nonEmptyString().optional(),
    endpoint: nonEmptyString('must be "embedded" or an http(s) URL')
      .refine((value) => value === "embedded" || /^https?:\/\/\S+$/.test(value), {
        error: 'must be "embedded" or an http(s) URL',
      })
      .optional(),
    embedded: z
      .strictObject({
        host: nonEmptyString().optional(),
        port: integer(0, 65_535).optional(),
      })
      .optional(),
    queuePrefix: namePart.optional(),
    receivers: z
      .array(nonEmptyString("must be a module path or glob"), { error: "must be a list of module paths or globs" })
      .min(1, { error: "must list at least one module path or glob" }),
    defaults: z
      .strictObject({
        visibilityTimeoutSeconds: integer(0, SQS_LIMITS.maxVisibilityTimeoutSeconds).optional(),
        waitTimeSeconds: integer(0, SQS_LIMITS.maxWaitTimeSeconds).optional(),
        errorBackoff: backoff.optional(),
        idleBackoff: z
          .union([z.literal(false), backoff], { error: "must be false or { initialMs, maxMs }" })
          .optional(),
        deadLetter: deadLetter.optional(),
        retry: retry.optional(),
      })
      .optional(),
    pool: z
      .strictObject({
        threads: integer(1, 256).optional(),
        minThreads: integer(1, 256).optional(),
        threadIdleSeconds: integer(1, 86_400).optional(),
        tasksPerThread: integer(1, 1_000).optional(),
        maxInFlight: integer(1, 100_000).optional(),
        prefetch: integer(1, 10_000).optional(),
        maxBuffered: integer(1, 1_000_000).optional(),
        maxHeapMb: integer(16, 65_536).optional(),
      })
      .optional(),
    drainTimeoutMs: integer(0, 3_600_000).optional(),
    drainPolls: z.enum(["wait", "abort"]).optional(),
    stallSeconds: integer(1, 86_400).optional(),
    createQueues: boolean.optional(),
    sqsTransport: z
      .enum(["lean", "sdk"], {
        error: 'must be "lean" (the default) or "sdk" (every request through the full AWS SDK client)',
      })
      .optional(),
    http: z
      .strictObject({
        port: integer(0, 65_535),
        host: nonEmptyString().optional(),
        token: nonEmptyString("must be a non-empty string (unset it to disable token checks)").optional(),
        allowUnauthenticatedControl: boolean.optional(),
        statusCacheSeconds: integer(0, 86_400).optional(),
        readyWhenPaused: boolean.optional(),
      })
      .optional(),
    telemetry: z.strictObject({ setup: nonEmptyString("must be a module path") }).optional(),
    log: z
      .strictObject({
        level: z
          .enum(["error", "warn", "info", "debug"], { error: 'must be "error", "warn", "info" or "debug"' })
          .optional(),
        format: z.enum(["json", "pretty"], { error: 'must be "json" or "pretty"' }).optional(),
      })
      .optional(),
    largePayloads: largePayloads.optional(),
    rateLimitStore: z
      .strictObject(
        {
          url: z.string().regex(/^rediss?:\/\//, "must be a redis:// or rediss:// URL"),
          keyPrefix: nonEmptyString().optional(),
        },
        { error: "must be { url, keyPrefix? }" },
      )
      .optional(),
    schedules: schedulesSchema.optional(),
  },
  { error: "must be an object (export default defineConfig({ ... }))" },
);

const codec = z.custom<unknown>(
  (value) =>
    isCodecName(value) ||
    (typeof value === "object" &&
      value !== null &&
      typeof (value as { encode?: unknown }).encode === "function" &&
      typeof (value as { decode?: unknown }).decode === "function"),
  { error: 'must be "json", "raw", "base64", "base64json" or a codec object with encode() and decode()' },
);

const standardSchema = z.custom<unknown>(isStandardSchema, {
  error: "must be a Standard Schema validator (zod, valibot, arktype, ...)",
});

const idempotencyStore = z.custom<unknown>(
  (value) =>
    typeof value === "object" &&
    value !== null &&
    ["begin", "complete", "release"].every((name) => typeof (value as Record<string, unknown>)[name] === "function"),
  { error: "must be an idempotency store: dynamoDbStore(...), redisStore(...) or memoryStore()" },
);

const idempotency = z.strictObject(
  {
    store: idempotencyStore,
    key: func.optional(),
    keyPrefix: nonEmptyString().optional(),
    expiresAfterSeconds: integer(1, 31_536_000).optional(),
    maxStoredResultBytes: integer(0, 350_000).optional(),
  },
  { error: "must be { store, key?, keyPrefix?, expiresAfterSeconds?, maxStoredResultBytes? }" },
);

const rateLimit = z
  .strictObject(
    {
      perSecond: z.number({ error: "must be a number 0.001..100000" }).min(0.001).max(100_000).optional(),
      perMinute: z.number({ error: "must be a number 0.06..6000000" }).min(0.06).max(6_000_000).optional(),
      burst: integer(1, 100_000).optional(),
      shared: z.union([boolean, z.literal("redis")], { error: 'must be true, false or "redis"' }).optional(),
    },
    { error: "must be { perSecond | perMinute, burst?, shared? }" },
  )
  .refine((limit) => (limit.perSecond === undefined) !== (limit.perMinute === undefined), {
    error: "must give exactly one of perSecond and perMinute",
  });

/** Schema of the options passed to `receiver()` and `register()`. */
export const receiverOptionsSchema = z.strictObject(
  {
    visibilityTimeoutSeconds: integer(0, SQS_LIMITS.maxVisibilityTimeoutSeconds).optional(),
    deleteOnStart: boolean.optional(),
    suffixes: z.array(namePart, { error: "must be a list of strings" }).optional(),
    concurrency: integer(1, 100_000).optional(),
    weight: integer(1, 1_000).optional(),
    onError: z.enum(["retry", "delete"], { error: 'must be "retry" or "delete"' }).optional(),
    codec: codec.optional(),
    schema: standardSchema.optional(),
    deadLetter: deadLetter.optional(),
    retry: retry.optional(),
    timeoutMs: integer(1, SQS_LIMITS.maxVisibilityTimeoutSeconds * 1000).optional(),
    setup: func.optional(),
    teardown: func.optional(),
    largePayloads: z
      .union([z.literal(false), largePayloads], {
        error:
          "must be false or { bucket, prefix?, thresholdBytes?, always?, deleteAfterProcessing?, maxPayloadBytes?, allowedBuckets?, s3Endpoint? }",
      })
      .optional(),
    idempotency: idempotency.optional(),
    rateLimit: rateLimit.optional(),
  },
  { error: "must be an object" },
);

/** Schema of the options passed to `receiver.batch()`. */
export const batchReceiverOptionsSchema = receiverOptionsSchema
  .extend({
    batchSize: integer(1, SQS_LIMITS.maxBatchEntries).optional(),
  })
  // One record per message would need the batch's outcomes per message first; not supported yet.
  .refine((options) => options.idempotency === undefined, {
    path: ["idempotency"],
    error: "is not supported on batch receivers: use receiver()",
  });

/**
 * Validates `value` against `schema` and returns it typed, or throws a {@link ValidationError} that lists
 * every problem as `path rule, got value`, prefixed by `subject` (a file or a queue).
 */
export function validate<S extends z.ZodType>(schema: S, value: unknown, subject: string, rootPath = ""): z.output<S> {
  const result = schema.safeParse(value, { reportInput: true });
  if (result.success) return result.data;
  throw new ValidationError(
    subject,
    result.error.issues.flatMap((issue) => toProblems(issue, value, rootPath)),
  );
}

/**
 * Keys whose values can be secrets: `http.token`, `rateLimitStore.url` (a Redis URL can carry a password), and
 * the names under which people put credentials. A problem
 * under such a key, or under any key sqsd does not know (a misspelt `http.tokn` holds the token all the same),
 * names the field and the kind of value, never the value: error messages end up in terminals, CI logs and
 * issue trackers.
 */
const SECRET_KEY = /token|secret|passw|credential|api_?key|access_?key|private_?key|cookie|session|^url$/i;

function toProblems(issue: z.core.$ZodIssue, root: unknown, rootPath: string): FieldProblem[] {
  if (issue.code === "unrecognized_keys") {
    return issue.keys.map((key) =>
      problem(
        joinPath(rootPath, [...issue.path, key]),
        "is not a known option",
        valueAt(root, [...issue.path, key]),
        true,
      ),
    );
  }
  const received = "input" in issue ? issue.input : valueAt(root, issue.path);
  const secret = issue.path.some((segment) => typeof segment === "string" && SECRET_KEY.test(segment));
  return [problem(joinPath(rootPath, issue.path) || "config", issue.message, received, secret)];
}

function problem(path: string, rule: string, received: unknown, secret: boolean): FieldProblem {
  // A non-empty object or array may hold a key sqsd does not know (a union's branches are strict), so it is
  // hidden as well. A hidden value is not even kept on the error, so nothing that prints the error shows it.
  const composite = typeof received === "object" && received !== null && Object.keys(received).length > 0;
  return secret || composite
    ? { path, rule, received: undefined, hidden: kindOfValue(received) }
    : { path, rule, received };
}

function joinPath(rootPath: string, path: readonly PropertyKey[]): string {
  let text = rootPath;
  for (const segment of path) {
    if (typeof segment === "number") text += `[${segment}]`;
    else text += text === "" ? String(segment) : `.${String(segment)}`;
  }
  return text;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let current = root;
  for (const segment of path) {
    if (typeof current !== "object" || current === null) return undefined;
    current = (current as Record<PropertyKey, unknown>)[segment];
  }
  return current;
}
