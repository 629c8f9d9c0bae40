import type {
  BatchResultErrorEntry,
  ChangeMessageVisibilityBatchRequest,
  ChangeMessageVisibilityBatchResult,
  DeleteMessageBatchRequest,
  DeleteMessageBatchResult,
  Message,
  MessageAttributeValue,
  ReceiveMessageRequest,
  ReceiveMessageResult,
} from "@aws-sdk/client-sqs";

/**
 * The three hot actions in SQS's AWS JSON 1.0 protocol: request bodies written in the order the SDK's schema
 * lists the members (so the bytes on the wire are the SDK's), and responses read into the SDK's output types,
 * member by member as its schema deserializer does (unknown members dropped, blobs decoded from base64).
 */

/** The SDK's name for a JSON field it leaves out: absent and null alike. */
type Json = Record<string, unknown>;

/** ReceiveMessage's body, members in the schema's order. */
export function receiveMessageBody(input: ReceiveMessageRequest): string {
  return JSON.stringify({
    QueueUrl: input.QueueUrl,
    AttributeNames: input.AttributeNames,
    MessageSystemAttributeNames: input.MessageSystemAttributeNames,
    MessageAttributeNames: input.MessageAttributeNames,
    MaxNumberOfMessages: input.MaxNumberOfMessages,
    VisibilityTimeout: input.VisibilityTimeout,
    WaitTimeSeconds: input.WaitTimeSeconds,
    ReceiveRequestAttemptId: input.ReceiveRequestAttemptId,
  });
}

/** Queues whose receive body is kept; a daemon has a fixed set, usually far fewer. */
const MAX_KEPT_RECEIVES = 10_000;

/** The members a ReceiveMessage body is written from, with its arrays copied. */
type ReceiveMembers = Omit<ReceiveMessageRequest, "QueueUrl">;

/**
 * Each queue's ReceiveMessage body, kept while its receives ask the same: a poller's receive is the same
 * request every time, and the same string object also spares the signer hashing it again to find its hash.
 */
export class ReceiveBodies {
  readonly #kept = new Map<string, { members: ReceiveMembers; body: string }>();

  /** The body for `input`: the kept one if every member matches, else written anew (and kept). */
  body(input: ReceiveMessageRequest): string {
    const key = input.QueueUrl ?? "";
    const kept = this.#kept.get(key);
    if (kept !== undefined && sameReceive(kept.members, input)) return kept.body;
    const body = receiveMessageBody(input);
    if (kept !== undefined || this.#kept.size < MAX_KEPT_RECEIVES) {
      this.#kept.set(key, {
        members: {
          AttributeNames: input.AttributeNames?.slice(),
          MessageSystemAttributeNames: input.MessageSystemAttributeNames?.slice(),
          MessageAttributeNames: input.MessageAttributeNames?.slice(),
          MaxNumberOfMessages: input.MaxNumberOfMessages,
          VisibilityTimeout: input.VisibilityTimeout,
          WaitTimeSeconds: input.WaitTimeSeconds,
          ReceiveRequestAttemptId: input.ReceiveRequestAttemptId,
        },
        body,
      });
    }
    return body;
  }
}

function sameReceive(kept: ReceiveMembers, input: ReceiveMessageRequest): boolean {
  return (
    kept.MaxNumberOfMessages === input.MaxNumberOfMessages &&
    kept.VisibilityTimeout === input.VisibilityTimeout &&
    kept.WaitTimeSeconds === input.WaitTimeSeconds &&
    kept.ReceiveRequestAttemptId === input.ReceiveRequestAttemptId &&
    sameList(kept.AttributeNames, input.AttributeNames) &&
    sameList(kept.MessageSystemAttributeNames, input.MessageSystemAttributeNames) &&
    sameList(kept.MessageAttributeNames, input.MessageAttributeNames)
  );
}

function sameList(kept: readonly string[] | undefined, given: readonly string[] | undefined): boolean {
  if (kept === undefined || given === undefined) return kept === given;
  if (kept.length !== given.length) return false;
  for (let index = 0; index < kept.length; index++) if (kept[index] !== given[index]) return false;
  return true;
}

/** DeleteMessageBatch's body, members in the schema's order. */
export function deleteMessageBatchBody(input: DeleteMessageBatchRequest): string {
  return JSON.stringify({
    QueueUrl: input.QueueUrl,
    Entries: input.Entries?.map((entry) => ({ Id: entry.Id, ReceiptHandle: entry.ReceiptHandle })),
  });
}

/** ChangeMessageVisibilityBatch's body, members in the schema's order. */
export function changeMessageVisibilityBatchBody(input: ChangeMessageVisibilityBatchRequest): string {
  return JSON.stringify({
    QueueUrl: input.QueueUrl,
    Entries: input.Entries?.map((entry) => ({
      Id: entry.Id,
      ReceiptHandle: entry.ReceiptHandle,
      VisibilityTimeout: entry.VisibilityTimeout,
    })),
  });
}

/** A ReceiveMessage response body, as the SDK returns it (without `$metadata`). */
export function readReceiveMessage(data: Json): ReceiveMessageResult {
  const messages = data["Messages"];
  return Array.isArray(messages) ? { Messages: messages.map((item) => readMessage(item as Json)) } : {};
}

/** A DeleteMessageBatch response body, as the SDK returns it (without `$metadata`). */
export function readDeleteMessageBatch(data: Json): DeleteMessageBatchResult {
  return readBatchResult(data) as DeleteMessageBatchResult;
}

/** A ChangeMessageVisibilityBatch response body, as the SDK returns it (without `$metadata`). */
export function readChangeMessageVisibilityBatch(data: Json): ChangeMessageVisibilityBatchResult {
  return readBatchResult(data) as ChangeMessageVisibilityBatchResult;
}

function readBatchResult(data: Json): { Successful?: { Id?: string }[]; Failed?: BatchResultErrorEntry[] } {
  const result: { Successful?: { Id?: string }[]; Failed?: BatchResultErrorEntry[] } = {};
  const successful = data["Successful"];
  if (Array.isArray(successful)) {
    result.Successful = successful.map((entry: Json) => copy<{ Id?: string }>(entry, ["Id"]));
  }
  const failed = data["Failed"];
  if (Array.isArray(failed)) {
    result.Failed = failed.map((entry: Json) => copy(entry, ["Id", "SenderFault", "Code", "Message"]));
  }
  return result;
}

function readMessage(data: Json): Message {
  const message: Message = copy(data, ["MessageId", "ReceiptHandle", "MD5OfBody", "Body"]);
  const attributes = data["Attributes"];
  if (isObject(attributes)) message.Attributes = stringMap(attributes);
  if (data["MD5OfMessageAttributes"] != null) message.MD5OfMessageAttributes = data["MD5OfMessageAttributes"] as string;
  const messageAttributes = data["MessageAttributes"];
  if (isObject(messageAttributes)) {
    const values: Record<string, MessageAttributeValue> = {};
    for (const [name, value] of Object.entries(messageAttributes)) {
      if (isObject(value)) values[name] = readAttributeValue(value);
    }
    message.MessageAttributes = values;
  }
  return message;
}

function readAttributeValue(data: Json): MessageAttributeValue {
  const value = copy<MessageAttributeValue>(data, ["DataType", "StringValue"]);
  if (data["BinaryValue"] != null) value.BinaryValue = fromBase64(data["BinaryValue"] as string);
  if (Array.isArray(data["StringListValues"])) value.StringListValues = data["StringListValues"] as string[];
  if (Array.isArray(data["BinaryListValues"])) {
    value.BinaryListValues = (data["BinaryListValues"] as string[]).map(fromBase64);
  }
  return value;
}

/** A blob as the SDK decodes it: a plain Uint8Array over the decoded bytes, not a Buffer. */
function fromBase64(text: string): Uint8Array {
  const bytes = Buffer.from(text, "base64");
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function stringMap(data: Json): Record<string, string> {
  const map: Record<string, string> = {};
  for (const [key, value] of Object.entries(data)) if (value != null) map[key] = value as string;
  return map;
}

function copy<T extends object>(data: Json, keys: readonly string[]): T {
  const result: Json = {};
  for (const key of keys) if (data[key] != null) result[key] = data[key];
  return result as T;
}

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
