/**
 * Type-level tests: this file only has to compile. Each `@ts-expect-error` line must be a type error; if one
 * ever compiles, tsc reports the directive as unused and `npm test` fails. Nothing here runs.
 */
import { z } from "zod";
import { modelInstance, receiver, register, send, type ModelRef, type ReceivedMessage } from "../../src/index.js";

interface User {
  readonly id: number;
  readonly email: string;
}

export function typedPayloads(): void {
  // receiver<T>() types the proxy's send and the handler's message.body.
  const thumbnails = receiver<{ imageId: number }>("thumbnails", async (message) => {
    const imageId: number = message.body.imageId;
    // @ts-expect-error the body has no such field
    void message.body.imageUrl;
    void imageId;
  });
  void thumbnails({ imageId: 7 });
  void thumbnails.send({ imageId: 7 }, { suffix: "big", delaySeconds: 5 });
  // @ts-expect-error a string is not a number
  void thumbnails({ imageId: "7" });
  // @ts-expect-error a required field is missing
  void thumbnails({});
  // @ts-expect-error send options are checked too
  void thumbnails({ imageId: 7 }, { delay: 5 });

  // An annotated handler types the queue as well.
  const annotated = receiver("annotated", async (message: ReceivedMessage<{ to: string }>) => {
    void message.body.to;
  });
  // @ts-expect-error `to` must be a string
  void annotated({ to: 1 });

  // A schema types both sides: sends take its input, handlers get its output.
  const orders = receiver(
    "orders",
    { schema: z.object({ orderId: z.string(), quantity: z.coerce.number() }) },
    async (message) => {
      const quantity: number = message.body.quantity;
      void quantity;
    },
  );
  void orders({ orderId: "A-1", quantity: 2 });
  // @ts-expect-error orderId must be a string
  void orders({ orderId: 1, quantity: 2 });

  // Model-instance queues send rows or references; handlers get rows, and the reference as message.ref.
  const welcome = receiver(
    "welcome",
    {
      codec: modelInstance<User>({
        resolve: { "auth.user": ({ pk }) => ({ id: Number(pk), email: "a@example.com" }) },
        refOf: (user) => ({ app: "auth", model: "user", pk: user.id }),
      }),
    },
    async (message) => {
      const email: string = message.body.email;
      const ref: ModelRef | undefined = message.ref;
      void email;
      void ref;
    },
  );
  void welcome({ id: 1, email: "a@example.com" });
  void welcome({ app: "auth", model: "user", pk: 1 });
  // @ts-expect-error neither a User nor a reference
  void welcome(42);

  // Batch handlers get a list and answer in Lambda's shape.
  const index = receiver.batch<{ doc: string }>("index", { batchSize: 5 }, async (messages) => ({
    batchItemFailures: messages
      .filter((message) => message.body.doc === "")
      .map((message) => ({ itemIdentifier: message.id })),
  }));
  void index({ doc: "x" });
  // @ts-expect-error a batch handler answers with batchItemFailures
  receiver.batch("index2", async () => ({ failures: [] }));
  // @ts-expect-error batchSize is a number (its 1..10 range is checked when the queue is registered)
  receiver.batch("index3", { batchSize: "10" }, async () => undefined);

  // send() by name is untyped (the name is a string), register() without a handler is send-only.
  register<{ line: string }>("audit");
  void send("audit", { line: "anything" });
}
