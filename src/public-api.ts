/**
 * The public API except `receiver()` and `register()`, shared by the two entries: src/index.ts (the package's
 * default) and src/thread-api.ts (what a pool thread resolves "sqsd" to). Nothing here loads zod.
 */
export { defineConfig } from "./config/define.js";
export type { SqsdConfig, BackoffOptions, LogLevel } from "./config/types.js";
export type { LargePayloadsOptions } from "./config/types.js";
export type { MessagePayload } from "./payloads/pointer.js";
export type {
  BatchHandler,
  BatchReceiverOptions,
  BatchReceiverProxy,
  BatchResult,
  DirectMessage,
  Handler,
  MessageQueue,
  OnErrorPolicy,
  RateLimitOptions,
  ReceivedMessage,
  ReceiverOptions,
  ReceiverProxy,
  RegisteredQueue,
  SendAttributeValue,
  SendOptions,
} from "./registry/types.js";
export { send, sendBatch } from "./registry/producer.js";
export type { SendBatchResult } from "./registry/producer.js";
export { configureSqs } from "./sqs/settings.js";
export { configureFromFile } from "./sqs/configure-from-file.js";
export type { ConfigureFromFileOptions } from "./sqs/configure-from-file.js";
export type { SqsCredentials, SqsSettings } from "./sqs/settings.js";
export { RestartLater, isRestartLater } from "./restart-later.js";
export { memoryStore } from "./idempotency/memory-store.js";
export { redisStore } from "./idempotency/redis-store.js";
export type { RedisStoreOptions } from "./idempotency/redis-store.js";
export { dynamoDbStore } from "./idempotency/dynamodb-store.js";
export type { DynamoDbStoreOptions } from "./idempotency/dynamodb-store.js";
export type { BeginResult, IdempotencyOptions, IdempotencyStore } from "./idempotency/types.js";
export type { RestartLaterOptions } from "./restart-later.js";
export { RateLimited, isRateLimited } from "./rate-limited.js";
export type { RateLimitedOptions } from "./rate-limited.js";
export { base64Codec, base64JsonCodec, jsonCodec, rawCodec } from "./codecs/codec.js";
export type { Codec, CodecContext, CodecName, MessageAttribute, ModelRef } from "./codecs/codec.js";
export { modelInstance, encodeModelRef, decodeModelRef } from "./codecs/model-instance.js";
export type { ModelInstanceOptions, ModelLoader } from "./codecs/model-instance.js";
export {
  MessageDecodeError,
  ModelInstanceNotFoundError,
  PayloadFetchError,
  PayloadPointerError,
  PayloadRefusedError,
  SchemaValidationError,
  UnknownModelError,
} from "./codecs/errors.js";
export type { SchemaIssue } from "./codecs/errors.js";
export type { StandardSchemaV1 } from "./codecs/schema.js";
export {
  ConfigError,
  MessageTooLargeError,
  PayloadStoreError,
  QueueNotFoundError,
  ReceiverLoadError,
  RegistrationError,
  SqsdError,
  SqsRequestError,
  TelemetrySetupError,
  UnknownQueueError,
  ValidationError,
} from "./errors.js";
export type { FieldProblem } from "./errors.js";
