import { receiver } from "sqsd";

/** Does nothing, so the bench measures sqsd's own overhead per message. */
export const noop = receiver("bench-sqsd", { codec: "raw" }, () => undefined);
