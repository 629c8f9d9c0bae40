import { MessageDecodeError } from "./errors.js";

const fatalUtf8 = new TextDecoder("utf-8", { fatal: true });

/** Base64 of the text's UTF-8 bytes, as Python's `base64.b64encode(text.encode("utf-8"))` writes it. */
export function encodeBase64Text(text: string): string {
  return Buffer.from(text, "utf8").toString("base64");
}

/**
 * The text inside a base64 body. As lenient as Python's `b64decode` about line breaks and spaces (old boto
 * versions wrapped lines), strict about everything else: Node's own decoder silently skips invalid characters,
 * which would turn a corrupt body into a wrong message instead of a decode error.
 */
export function decodeBase64Text(body: string): string {
  const compact = body.replace(/[\r\n\t ]/g, "");
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(compact) || compact.length % 4 !== 0) {
    throw new MessageDecodeError("the body is not valid base64");
  }
  try {
    return fatalUtf8.decode(Buffer.from(compact, "base64"));
  } catch (error) {
    throw new MessageDecodeError("the base64 body does not hold UTF-8 text", { cause: error });
  }
}
