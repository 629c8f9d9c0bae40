/**
 * Type-level test: the config schema (what sqsd accepts) and SqsdConfig (what users are told they may write)
 * list the same options, at every level. A new option added to one and not the other fails to compile.
 */
import type { z } from "zod";
import type { configSchema, receiverOptionsSchema } from "../../src/config/rules.js";
import type { SqsdConfig } from "../../src/config/types.js";
import type { BatchReceiverOptions } from "../../src/registry/types.js";

type SameKeys<A, B> = [Exclude<keyof A, keyof B>, Exclude<keyof B, keyof A>] extends [never, never] ? true : [A, B];
type Expect<T extends true> = T;
type Written = z.input<typeof configSchema>;
type Part<T, K extends keyof T> = Exclude<NonNullable<T[K]>, false>;

export type ConfigChecks = [
  Expect<SameKeys<Written, SqsdConfig>>,
  Expect<SameKeys<Part<Written, "defaults">, Part<SqsdConfig, "defaults">>>,
  Expect<SameKeys<Part<Written, "pool">, Part<SqsdConfig, "pool">>>,
  Expect<SameKeys<Part<Written, "embedded">, Part<SqsdConfig, "embedded">>>,
  Expect<SameKeys<Part<Written, "http">, Part<SqsdConfig, "http">>>,
  Expect<SameKeys<Part<Written, "log">, Part<SqsdConfig, "log">>>,
  Expect<SameKeys<Part<Written, "telemetry">, Part<SqsdConfig, "telemetry">>>,
  Expect<SameKeys<Part<Part<Written, "defaults">, "deadLetter">, Part<Part<SqsdConfig, "defaults">, "deadLetter">>>,
  Expect<SameKeys<z.input<typeof receiverOptionsSchema>, Omit<BatchReceiverOptions, "batchSize">>>,
];
