import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { MessageDecodeError, ModelInstanceNotFoundError, UnknownModelError } from "../../src/codecs/errors.js";
import { encodeModelRef, modelInstance } from "../../src/codecs/model-instance.js";

const context = { messageId: "m-1", messageAttributes: {} };
interface User {
  id: number;
  name: string;
}
const ada: User = { id: 42, name: "ada" };

describe("modelInstance", () => {
  it("sends a reference, or an instance through refOf", () => {
    const codec = modelInstance<User>({
      resolve: () => ada,
      refOf: (user) => ({ app: "auth", model: "user", pk: user.id }),
    });
    // base64 of '["auth", "user", 42]', as django-sqs wrote it.
    const expected = "WyJhdXRoIiwgInVzZXIiLCA0Ml0=";
    assert.equal(codec.encode({ app: "auth", model: "user", pk: 42 }), expected);
    assert.equal(codec.encode(ada), expected);
  });

  it("refuses to send an instance without refOf", () => {
    const codec = modelInstance<User>({ resolve: () => ada });
    assert.throws(() => codec.encode(ada), /give it refOf to send instances/);
  });

  it("loads through one resolver function, which can say a model is unknown", async () => {
    const codec = modelInstance<User>({
      resolve: ({ app, model, pk }) => {
        if (`${app}.${model}` !== "auth.user") throw new UnknownModelError(app, model);
        return pk === 42 ? ada : undefined;
      },
    });
    assert.deepEqual(await codec.decode(encodeModelRef({ app: "auth", model: "user", pk: 42 }), context), ada);
    await assert.rejects(
      async () => codec.decode(encodeModelRef({ app: "shop", model: "order", pk: 1 }), context),
      UnknownModelError,
    );
    await assert.rejects(
      async () => codec.decode(encodeModelRef({ app: "auth", model: "user", pk: 7 }), context),
      (error: unknown) =>
        error instanceof ModelInstanceNotFoundError &&
        error.pk === 7 &&
        // The pk comes from the body (a string pk can be an email address), so the message leaves it out.
        /the auth\.user row the message names does not exist/.test(error.message) &&
        !error.message.includes("7"),
    );
  });

  it("loads through per-model loaders, and knows which models it serves", async () => {
    const codec = modelInstance<User>({ resolve: { "auth.user": ({ pk }) => (pk === 42 ? ada : null) } });
    assert.deepEqual(codec.reference?.(encodeModelRef({ app: "auth", model: "user", pk: 42 }), context), {
      app: "auth",
      model: "user",
      pk: 42,
    });
    await assert.rejects(
      async () => codec.decode(encodeModelRef({ app: "auth", model: "group", pk: 1 }), context),
      (error: unknown) => error instanceof UnknownModelError && error.code === "SQSD_UNKNOWN_MODEL",
    );
    await assert.rejects(async () => codec.decode("!!", context), MessageDecodeError);
  });
});
