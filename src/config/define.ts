import type { SqsdConfig } from "./types.js";

/**
 * Types your `sqs.config.ts`. It returns the config unchanged; sqsd validates it when it loads the file.
 *
 * @example
 * ```ts
 * import { defineConfig } from "sqsd";
 *
 * export default defineConfig({
 *   queuePrefix: process.env.STAGE,
 *   receivers: ["./receivers/*.ts"],
 * });
 * ```
 */
export function defineConfig(config: SqsdConfig): SqsdConfig {
  return config;
}
