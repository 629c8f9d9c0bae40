/**
 * The wire format of the AWS SQS extended clients, which sqsd writes and reads so that Java and Python
 * producers and consumers interoperate with it. Pure data: no S3 here.
 *
 * A message whose body lives in S3 carries, instead of the body:
 * - the body `["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"…","s3Key":"…"}]`, the JSON
 *   the Java library's Jackson writes for its `PayloadS3Pointer` (Python's `json.dumps` writes the same with
 *   spaces after `,` and `:`); the 1.x Java library named the class `com.amazon.sqs.javamessaging.MessageS3Pointer`;
 * - the message attribute `ExtendedPayloadSize` (DataType `Number`): the body's size in bytes. Java 1.x and
 *   Python's `use_legacy_attribute` write `SQSLargePayloadSize` instead.
 *
 * Readers tell an offloaded message by that attribute, not by the body, as both AWS libraries do.
 * @see https://github.com/awslabs/amazon-sqs-java-extended-client-lib
 * @see https://github.com/awslabs/payload-offloading-java-common-lib (PayloadS3Pointer)
 * @see https://github.com/awslabs/amazon-sqs-python-extended-client-lib (src/sqs_extended_client/client.py)
 */
import type { MessageAttribute } from "../codecs/codec.js";
import { PayloadPointerError } from "../codecs/errors.js";
import { ValidationError } from "../errors.js";

/** The pointer class the current AWS libraries write. */
export const POINTER_CLASS = "software.amazon.payloadoffloading.PayloadS3Pointer";
/** The pointer class of the Java library's 1.x versions, still accepted on receive. */
export const LEGACY_POINTER_CLASS = "com.amazon.sqs.javamessaging.MessageS3Pointer";
/** The message attribute that marks an offloaded message and holds the body's size in bytes. */
export const SIZE_ATTRIBUTE = "ExtendedPayloadSize";
/** The same attribute's older name, still accepted on receive. */
export const LEGACY_SIZE_ATTRIBUTE = "SQSLargePayloadSize";

/** Where a received body came from: inline in the SQS message, or the S3 object its pointer named. */
export type MessagePayload =
  | { readonly location: "inline" }
  | { readonly location: "s3"; readonly bucket: string; readonly key: string; readonly sizeBytes: number };

/** Where an offloaded body is. */
export interface S3Location {
  readonly bucket: string;
  readonly key: string;
}

/** The message body sqsd sends in place of an offloaded body: compact JSON, as the Java library writes it. */
export function pointerBody(location: S3Location): string {
  return JSON.stringify([POINTER_CLASS, { s3BucketName: location.bucket, s3Key: location.key }]);
}

/** The `ExtendedPayloadSize` attribute for a body of `bytes` bytes, in SQS's wire shape. */
export function sizeAttribute(bytes: number): { DataType: "Number"; StringValue: string } {
  return { DataType: "Number", StringValue: String(bytes) };
}

/**
 * Refuses a send whose own attributes use `ExtendedPayloadSize` or `SQSLargePayloadSize`: receivers (sqsd's,
 * the Java and Python libraries) would take its inline body for a pointer. Every send is checked, offloaded or
 * not, and on queues without `largePayloads` too.
 */
export function checkReservedAttributes(
  attributes: Readonly<Record<string, { StringValue?: string | undefined }>>,
  fullName: string,
): void {
  for (const reserved of [SIZE_ATTRIBUTE, LEGACY_SIZE_ATTRIBUTE]) {
    if (reserved in attributes) {
      throw new ValidationError(`send to ${fullName}`, [
        {
          path: `messageAttributes.${reserved}`,
          rule: "is reserved for large payloads (it marks a message whose body is in S3)",
          received: attributes[reserved]?.StringValue,
        },
      ]);
    }
  }
}

/** Whether a received message is offloaded: it carries `ExtendedPayloadSize` or `SQSLargePayloadSize`. */
export function isOffloaded(messageAttributes: Readonly<Record<string, MessageAttribute>>): boolean {
  return SIZE_ATTRIBUTE in messageAttributes || LEGACY_SIZE_ATTRIBUTE in messageAttributes;
}

/** The body size an offloaded message declares, when it declares a valid one. */
export function declaredSize(messageAttributes: Readonly<Record<string, MessageAttribute>>): number | undefined {
  const value = (messageAttributes[SIZE_ATTRIBUTE] ?? messageAttributes[LEGACY_SIZE_ATTRIBUTE])?.stringValue;
  const size = Number(value);
  return value !== undefined && Number.isSafeInteger(size) && size >= 0 ? size : undefined;
}

/**
 * Reads the S3 location from a pointer body (either class name, any JSON spacing). Throws a
 * {@link PayloadPointerError} that says what is wrong without quoting the body.
 */
export function parsePointer(body: string): S3Location {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new PayloadPointerError("the message carries ExtendedPayloadSize but its body is not JSON");
  }
  if (!Array.isArray(parsed) || parsed.length !== 2 || typeof parsed[1] !== "object" || parsed[1] === null) {
    throw new PayloadPointerError('the pointer must be a JSON array [className, { "s3BucketName", "s3Key" }]');
  }
  const [className, fields] = parsed as [unknown, Record<string, unknown>];
  if (className !== POINTER_CLASS && className !== LEGACY_POINTER_CLASS) {
    throw new PayloadPointerError(`the pointer's class must be ${POINTER_CLASS} or ${LEGACY_POINTER_CLASS}`);
  }
  const bucket = fields["s3BucketName"];
  const key = fields["s3Key"];
  if (typeof bucket !== "string" || bucket === "" || typeof key !== "string" || key === "") {
    throw new PayloadPointerError("the pointer must name a non-empty s3BucketName and s3Key");
  }
  return { bucket, key };
}
