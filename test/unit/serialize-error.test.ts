import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { serializeError } from "../../src/pool/protocol.js";

describe("serializeError", () => {
  it("flattens an Error with its name, message, stack and string code", () => {
    const error = Object.assign(new RangeError("too far"), { code: "E_FAR" });
    assert.deepEqual(serializeError(error), {
      name: "RangeError",
      message: "too far",
      stack: error.stack,
      code: "E_FAR",
    });
  });

  it("never throws, whatever a handler threw", () => {
    assert.equal(serializeError(Object.create(null)).message, "[object Object]");
    assert.equal(serializeError("plain").message, "plain");
    const odd = Object.assign(new Error("x"), { message: Object.create(null) as unknown });
    assert.equal(serializeError(odd).message, "[object Object]");
  });
});
