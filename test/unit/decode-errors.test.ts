import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as v from "valibot";
import { z } from "zod";
import { base64JsonCodec, jsonCodec } from "../../src/codecs/codec.js";
import { loggableDecodeError, SchemaValidationError } from "../../src/codecs/errors.js";
import { decodeModelRef, modelInstance } from "../../src/codecs/model-instance.js";
import { validateWithSchema } from "../../src/codecs/schema.js";
import { serializeError } from "../../src/pool/protocol.js";
import { jsonErrorOffset, jsonSyntaxReason } from "../../src/util/json-syntax.js";

const SENTINEL = "SNTL5f3a";
const context = { messageId: "m-1", messageAttributes: {} };

/** Everything of an error that crosses to the supervisor, as one text. */
function crossing(error: unknown): string {
  return JSON.stringify(serializeError(loggableDecodeError(error)));
}

async function thrownBy(action: () => unknown): Promise<unknown> {
  try {
    await action();
  } catch (error) {
    return error;
  }
  assert.fail("nothing was thrown");
}

/** Decode and schema failures say where and why, never any part of the body. */
describe("decode errors", () => {
  it("finds where a text stops being JSON at the offset V8 reports", () => {
    for (const text of ['{"a":1', "[1,2,]", '{"a" 1}', '"a\\x"', "01", "{}x", "1 2", "{,}", '"\\u12G4"']) {
      let v8Offset: number | undefined;
      try {
        JSON.parse(text);
      } catch (error) {
        v8Offset = Number(/at position (\d+)/.exec((error as Error).message)?.[1] ?? NaN);
      }
      if (!Number.isNaN(v8Offset)) assert.equal(jsonErrorOffset(text), v8Offset, text);
    }
    assert.equal(jsonErrorOffset(`${SENTINEL} 078-05-1120`), 0);
    assert.equal(jsonErrorOffset('{"a":[1,{"b":null}],"c":"\\u00e9"}'), undefined);
    assert.equal(jsonSyntaxReason('{"a":'), "SyntaxError: ends early at position 5");
  });

  it("a body that is not JSON: the reason and the position, not V8's message, which quotes it", async () => {
    for (const [codec, body] of [
      [jsonCodec, `${SENTINEL} SSN`],
      [base64JsonCodec, Buffer.from(`${SENTINEL} SSN`).toString("base64")],
    ] as const) {
      const error = await thrownBy(() => codec.decode(body, context));
      assert.equal((error as Error).message, "the body is not valid JSON (SyntaxError at position 0)");
      assert.ok(!crossing(error).includes(SENTINEL), crossing(error));
    }
    const notRef = Buffer.from(`["auth", ${SENTINEL}]`).toString("base64");
    assert.ok(!crossing(await thrownBy(() => decodeModelRef(notRef))).includes(SENTINEL));
  });

  it("model-instance failures name the model, but never the pk or a label that is not a name", async () => {
    const codec = modelInstance({ resolve: { "auth.user": () => null } });
    const ref = (app: string, pk: string) => Buffer.from(JSON.stringify([app, "user", pk])).toString("base64");
    const missing = await thrownBy(() => codec.decode(ref("auth", SENTINEL), context));
    assert.match((missing as Error).message, /auth\.user row/);
    const unknown = await thrownBy(() => codec.decode(ref(`x ${SENTINEL}`, "1"), context));
    for (const error of [missing, unknown]) assert.ok(!crossing(error).includes(SENTINEL), crossing(error));
  });

  it("zod and valibot failures: the reason code and the path, not the validator's text", async () => {
    const zodSchema = z.object({
      contact: z.object({ email: z.email() }),
      note: z.string().refine((note) => note.length < 5, { error: (issue) => `too long: ${String(issue.input)}` }),
    });
    const zodError = await thrownBy(() =>
      validateWithSchema(zodSchema, { contact: { email: SENTINEL }, note: SENTINEL }, "message m-1"),
    );
    assert.ok(zodError instanceof SchemaValidationError);
    assert.deepEqual(zodError.issues, [
      { path: "$.contact.email", reason: "invalid_format" },
      { path: "$.note", reason: "custom" },
    ]);
    const valibotSchema = v.object({ items: v.array(v.object({ email: v.pipe(v.string(), v.email()) })) });
    const valibotError = await thrownBy(() =>
      validateWithSchema(valibotSchema, { items: [{ email: SENTINEL }] }, "message m-1"),
    );
    assert.ok(valibotError instanceof SchemaValidationError);
    assert.equal(valibotError.message, "message m-1 does not match the schema: email at $.items[0].email");
    // A record's keys come from the body: shown only when they read as identifiers.
    const recordError = await thrownBy(() =>
      validateWithSchema(z.record(z.string(), z.number()), { [`${SENTINEL}-key`]: "x" }, "message m-1"),
    );
    assert.match((recordError as Error).message, /invalid_type at \$\[\?\]$/);
    for (const error of [zodError, valibotError, recordError]) {
      assert.ok(!crossing(error).includes(SENTINEL), crossing(error));
    }
  });

  it("any other error a codec throws keeps its name, code and frames, without its message", async () => {
    const custom = { name: "mine", encode: String, decode: (body: string) => JSON.parse(body) as unknown };
    const error = await thrownBy(() => custom.decode(`${SENTINEL}\n    at ${SENTINEL}`));
    const serialized = serializeError(loggableDecodeError(error));
    assert.equal(serialized.name, "SyntaxError");
    assert.match(serialized.stack ?? "", /^SyntaxError: the codec or schema threw this error/);
    assert.ok(!JSON.stringify(serialized).includes(SENTINEL), JSON.stringify(serialized));
    const coded = Object.assign(new Error(SENTINEL), { code: "E_MINE" });
    const withCode = serializeError(loggableDecodeError(coded));
    assert.equal(withCode.code, "E_MINE");
    assert.match(withCode.stack ?? "", /\n {4}at /, "the frames are kept");
    assert.ok(!JSON.stringify(withCode).includes(SENTINEL));
  });
});
