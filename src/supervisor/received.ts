import type { Message } from "@aws-sdk/client-sqs";
import type { MessageAttribute } from "../codecs/codec.js";
import type { WireMessage } from "../pool/protocol.js";

/**
 * A received message as a pool thread gets it: plain data, without the receipt handle, and named by its
 * delivery's id for the requests its handler makes.
 */
export function toWireMessage(message: Message, deliveryId: number): WireMessage {
  const messageAttributes: Record<string, MessageAttribute> = {};
  for (const [key, value] of Object.entries(message.MessageAttributes ?? {})) {
    messageAttributes[key] = {
      dataType: value.DataType ?? "String",
      ...(value.StringValue === undefined ? {} : { stringValue: value.StringValue }),
      ...(value.BinaryValue === undefined ? {} : { binaryValue: value.BinaryValue }),
    };
  }
  return {
    id: message.MessageId ?? "",
    deliveryId,
    body: message.Body ?? "",
    attributes: { ...(message.Attributes as Record<string, string> | undefined) },
    messageAttributes,
    ...(message.MD5OfBody === undefined ? {} : { md5OfBody: message.MD5OfBody }),
  };
}
