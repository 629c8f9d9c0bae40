import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { jsonCodec, rawCodec, resolveCodec } from "../../src/codecs/codec.js";
import { MessageDecodeError } from "../../src/codecs/errors.js";

const context = { messageId: "m-1", messageAttributes: {} };

describe("codecs", () => {
  it("json round-trips values", () => {
    const value = { a: 1, b: ["x", null], c: "é" };
    assert.equal(jsonCodec.encode(value), '{"a":1,"b":["x",null],"c":"é"}');
    assert.deepEqual(jsonCodec.decode(jsonCodec.encode(value), context), value);
  });

  it("json refuses what it cannot encode, and malformed bodies", () => {
    assert.throws(() => jsonCodec.encode(undefined), /cannot encode a value of type undefined/);
    assert.throws(() => jsonCodec.decode("{not json", context), MessageDecodeError);
  });

  it("raw passes strings through and refuses other values", () => {
    assert.equal(rawCodec.encode("as is"), "as is");
    assert.equal(rawCodec.decode("as is", context), "as is");
    assert.throws(() => rawCodec.encode(42 as never), /raw codec sends strings, got a number/);
  });

  it("resolves names, objects and the default", () => {
    assert.equal(resolveCodec(undefined), jsonCodec);
    assert.equal(resolveCodec("raw"), rawCodec);
    const custom = { name: "upper", encode: (value: string) => value.toUpperCase(), decode: (body: string) => body };
    assert.equal(resolveCodec(custom), custom);
  });
});
