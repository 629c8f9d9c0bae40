/**
 * An S3 object larger than the receiver's `maxPayloadBytes`, found by its ContentLength or while streaming it.
 * Internal: fetch.ts turns it into the PayloadRefusedError the handler's message fails with. Its own module so
 * that fetch.ts can tell it apart without loading the S3 store (and the SDK) eagerly.
 */
export class PayloadTooLargeError extends Error {
  override readonly name = "PayloadTooLargeError";
  /** The size seen: ContentLength, or the bytes read when the limit was passed. */
  readonly bytes: number;
  /** How the size was found, for the refusal's wording: "is" (ContentLength) or "streamed over". */
  readonly how: string;
  constructor(bytes: number, how: string) {
    super(`the object ${how} ${bytes} bytes`);
    this.bytes = bytes;
    this.how = how;
  }
}
