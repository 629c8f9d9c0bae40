import { decodeBase64Text, encodeBase64Text } from "./base64.js";
import type { Codec, ModelRef } from "./codec.js";
import { MessageDecodeError, ModelInstanceNotFoundError, UnknownModelError } from "./errors.js";
import { pythonJsonDumps } from "./python-json.js";

/** Loads the row a reference names. `null` or `undefined` means the row does not exist. */
export type ModelLoader<M> = (ref: ModelRef) => M | null | undefined | Promise<M | null | undefined>;

/** Options of {@link modelInstance}. */
export interface ModelInstanceOptions<M> {
  /**
   * Loads the row, with your own data layer. Either one function for every model (throw
   * {@link UnknownModelError} for a model it does not serve), or one loader per model keyed `"app.model"`, in
   * which case a reference to any other model is an {@link UnknownModelError} without calling anything.
   */
  readonly resolve: ModelLoader<M> | Readonly<Record<string, ModelLoader<M>>>;
  /** Derives the reference of an instance, so that `send(user)` works; without it, send references. */
  readonly refOf?: (instance: M) => ModelRef;
}

/**
 * A codec for django-sqs's model-instance messages: the body is base64 of the JSON array
 * `[app_label, model, pk]`, byte for byte as `ModelInstanceMessage` wrote it, so Python and sqsd share queues.
 * Receiving, the handler gets the loaded row as `message.body` and the reference as `message.ref`. Each
 * failure is its own error, and follows the queue's `onError`: a body that is not a reference
 * ({@link MessageDecodeError}), a model the resolver does not know ({@link UnknownModelError}), and a row that
 * does not exist ({@link ModelInstanceNotFoundError}).
 *
 * @example
 * ```ts
 * const users = modelInstance<User>({
 *   resolve: { "auth.user": ({ pk }) => db.users.findById(pk) },
 *   refOf: (user) => ({ app: "auth", model: "user", pk: user.id }),
 * });
 * export const welcome = receiver("welcome", { codec: users }, async (message) => {
 *   await mail(message.body.email); // message.body is the User; message.ref is { app, model, pk }
 * });
 * await welcome(user); // or welcome({ app: "auth", model: "user", pk: 42 })
 * ```
 */
export function modelInstance<M>(options: ModelInstanceOptions<M>): Codec<M, M | ModelRef> {
  const { resolve, refOf } = options;
  return {
    name: "modelInstance",
    encode(value) {
      const ref = isModelRef(value) ? value : refOf?.(value);
      if (!ref) {
        throw new TypeError("modelInstance sends a { app, model, pk } reference; give it refOf to send instances");
      }
      return encodeModelRef(ref);
    },
    reference: (body) => decodeModelRef(body),
    async decode(body) {
      const ref = decodeModelRef(body);
      const load = typeof resolve === "function" ? resolve : resolve[`${ref.app}.${ref.model}`];
      if (load === undefined) throw new UnknownModelError(ref.app, ref.model);
      const instance = await load(ref);
      if (instance === null || instance === undefined) throw new ModelInstanceNotFoundError(ref.app, ref.model, ref.pk);
      return instance;
    },
  };
}

/** The body django-sqs wrote for a reference: base64 of Python's `json.dumps((app_label, model, pk))`. */
export function encodeModelRef(ref: ModelRef): string {
  return encodeBase64Text(pythonJsonDumps([ref.app, ref.model, ref.pk]));
}

/** Reads a reference from a body; throws {@link MessageDecodeError} when the body is not one. */
export function decodeModelRef(body: string): ModelRef {
  let parsed: unknown;
  try {
    parsed = JSON.parse(decodeBase64Text(body));
  } catch (error) {
    if (error instanceof MessageDecodeError) throw error;
    // Not the SyntaxError as a cause: its message quotes the body.
    throw new MessageDecodeError("the body is not base64 of a JSON [app_label, model, pk] array");
  }
  if (
    !Array.isArray(parsed) ||
    parsed.length !== 3 ||
    typeof parsed[0] !== "string" ||
    typeof parsed[1] !== "string" ||
    (typeof parsed[2] !== "string" && typeof parsed[2] !== "number")
  ) {
    throw new MessageDecodeError("the body is not a JSON [app_label, model, pk] array");
  }
  return { app: parsed[0], model: parsed[1], pk: parsed[2] };
}

function isModelRef(value: unknown): value is ModelRef {
  if (typeof value !== "object" || value === null) return false;
  const keys = Object.keys(value).sort();
  const { app, model, pk } = value as Partial<ModelRef>;
  return (
    keys.join(",") === "app,model,pk" &&
    typeof app === "string" &&
    typeof model === "string" &&
    (typeof pk === "string" || typeof pk === "number")
  );
}
