import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { base64Codec, base64JsonCodec } from "../../src/codecs/codec.js";
import { MessageDecodeError } from "../../src/codecs/errors.js";
import { decodeModelRef, encodeModelRef } from "../../src/codecs/model-instance.js";
import { pythonJsonDumps } from "../../src/codecs/python-json.js";

const context = { messageId: "m-1", messageAttributes: {} };

/**
 * Wire formats shared with Python peers. Each fixture is what the documented Python expression prints, so
 * sqsd must read them and write the same bytes.
 */
describe("interoperability with boto and django-sqs", () => {
  // base64.b64encode("hello, wörld".encode("utf-8")): boto's default Message
  const botoMessage = "aGVsbG8sIHfDtnJsZA==";
  // base64.b64encode(json.dumps(("auth", "user", 42))): django_sqs.message.ModelInstanceMessage
  const modelInstanceMessage = "WyJhdXRoIiwgInVzZXIiLCA0Ml0=";

  it("reads and writes boto's base64 Message bodies byte for byte", () => {
    assert.equal(base64Codec.decode(botoMessage, context), "hello, wörld");
    assert.equal(base64Codec.encode("hello, wörld"), botoMessage);
  });

  it("reads line-wrapped base64, as old boto versions wrote it", () => {
    assert.equal(base64Codec.decode("aGVsbG8sIHfD\ntnJsZA==\n", context), "hello, wörld");
  });

  it("refuses bodies that are not base64 of UTF-8 text, instead of guessing", () => {
    assert.throws(() => base64Codec.decode("hello!", context), MessageDecodeError);
    assert.throws(() => base64Codec.decode("aGVsbG8", context), /not valid base64/);
    assert.throws(() => base64Codec.decode(Buffer.from([0xff, 0xfe]).toString("base64"), context), /UTF-8/);
  });

  it("reads and writes ModelInstanceMessage bodies byte for byte", () => {
    assert.deepEqual(decodeModelRef(modelInstanceMessage), { app: "auth", model: "user", pk: 42 });
    assert.equal(encodeModelRef({ app: "auth", model: "user", pk: 42 }), modelInstanceMessage);
    // base64.b64encode(json.dumps(("shop", "order", "a-uuid-pk"))): string primary keys
    assert.equal(
      encodeModelRef({ app: "shop", model: "order", pk: "a-uuid-pk" }),
      "WyJzaG9wIiwgIm9yZGVyIiwgImEtdXVpZC1wayJd",
    );
  });

  it("writes JSON as Python's json.dumps does, and base64json as boto's JSONMessage", () => {
    const value = { a: 1, b: [1, 2.5, null, true], c: "é ☃ 😀", d: { nested: 'x\ny"z\\' }, e: 1e-7, g: 1e22, h: 0.1 };
    // json.dumps(v) in Python 3 for the same value
    const python =
      '{"a": 1, "b": [1, 2.5, null, true], "c": "\\u00e9 \\u2603 \\ud83d\\ude00", "d": {"nested": "x\\ny\\"z\\\\"}, "e": 1e-07, "g": 1e+22, "h": 0.1}';
    assert.equal(pythonJsonDumps(value), python);
    assert.equal(base64JsonCodec.encode(value), Buffer.from(python).toString("base64"));
    assert.deepEqual(base64JsonCodec.decode(Buffer.from(python).toString("base64"), context), value);
  });

  it("writes floats as Python's repr does", () => {
    assert.equal(
      pythonJsonDumps([1.5, 1e-5, 0.0001, 1e16, 123456789.125, -0.5]),
      "[1.5, 1e-05, 0.0001, 1e+16, 123456789.125, -0.5]",
    );
    assert.throws(() => pythonJsonDumps(Number.NaN), /NaN has no JSON form/);
  });

  it("refuses a reference that is not [app_label, model, pk]", () => {
    for (const json of ['["auth", "user"]', '{"app": "auth"}', '["auth", 3, 42]', "not json"]) {
      assert.throws(() => decodeModelRef(Buffer.from(json).toString("base64")), MessageDecodeError, json);
    }
  });
});
