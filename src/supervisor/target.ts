import type { RegisteredQueue } from "../registry/types.js";

/** One physical queue the daemon consumes: a registered queue under one suffix. */
export interface PollTarget {
  readonly queue: RegisteredQueue;
  readonly suffix: string | undefined;
  readonly fullName: string;
  readonly url: string;
  readonly visibilityTimeoutSeconds: number;
}
