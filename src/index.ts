/**
 * sqsd's public API: what receiver modules, config files and producers import.
 * The daemon's internals (supervisor, pool, CLI) are deliberately not exported.
 */
export { defineConfig } from "./config/define.js";
export type { SqsdConfig, BackoffOptions, LogLevel } from "./config/types.js";
export { receiver, register } from "./registry/receiver.js";
export type {
  DirectMessage,
  Handler,
  MessageQueue,
  OnErrorPolicy,
  ReceivedMessage,
  ReceiverOptions,
  ReceiverProxy,
  RegisteredQueue,
  SendAttributeValue,
  SendOptions,
} from "./registry/types.js";
export { send } from "./sqs/producer.js";
export { configureSqs } from "./sqs/settings.js";
export type { SqsCredentials, SqsSettings } from "./sqs/settings.js";
export { RestartLater, isRestartLater } from "./restart-later.js";
export type { RestartLaterOptions } from "./restart-later.js";
export { jsonCodec, rawCodec } from "./codecs/codec.js";
export type { Codec, CodecContext, CodecName, MessageAttribute } from "./codecs/codec.js";
export {
  ConfigError,
  QueueNotFoundError,
  ReceiverLoadError,
  RegistrationError,
  SqsdError,
  SqsRequestError,
  UnknownQueueError,
  ValidationError,
} from "./errors.js";
export type { FieldProblem } from "./errors.js";
