import { glob } from "tinyglobby";
import { ConfigError, ReceiverLoadError } from "./errors.js";
import { importUserModule } from "./loader.js";

/**
 * Expands the config's receiver paths and globs into files, in a stable order. A pattern that matches
 * nothing is an error: it is almost always a typo, and silently consuming no queue would be worse.
 */
export async function findReceiverModules(patterns: readonly string[], configPath: string): Promise<string[]> {
  const files: string[] = [];
  for (const [index, pattern] of patterns.entries()) {
    const matches = (await glob(pattern, { absolute: true, onlyFiles: true, expandDirectories: false })).sort();
    if (matches.length === 0) {
      throw new ConfigError(`receivers[${index}] matches no file: ${pattern}`, { file: configPath });
    }
    for (const match of matches) if (!files.includes(match)) files.push(match);
  }
  return files;
}

/** Imports receiver modules in order; their top levels register queues. */
export async function importReceiverModules(files: readonly string[]): Promise<void> {
  for (const file of files) {
    try {
      await importUserModule(file);
    } catch (error) {
      throw new ReceiverLoadError(file, error);
    }
  }
}
