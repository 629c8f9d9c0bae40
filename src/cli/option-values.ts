/**
 * Reading option values as the user typed them: numbers, single values and repeated flags. A value that does
 * not fit is a usage error (exit 2) that names the flag and echoes the text given.
 */
import { UsageError } from "../errors.js";

/**
 * Reads a whole-number option from the text as given. Numeric options are declared as strings because yargs
 * turns `--message-limit lots` into NaN, and an error must echo what the user typed.
 */
export function wholeNumber(
  name: string,
  given: string | readonly string[] | undefined,
  min: number,
): number | undefined {
  const text = oneValue(name, given);
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || value < min) {
    throw new UsageError(`${flag(name)} must be an integer of at least ${min}, got ${text}`);
  }
  return value;
}

/** A single-value string option; empty (`--suffix` with nothing after it) or repeated is a usage error. */
export function oneValue(name: string, given: string | readonly string[] | undefined): string | undefined {
  if (given === undefined) return undefined;
  // yargs gives a repeated flag as an array: say so rather than pick one.
  if (typeof given !== "string") throw new UsageError(`${flag(name)} takes one value, got ${given.join(", ")}`);
  if (given === "") throw new UsageError(`${flag(name)} needs a value`);
  return given;
}

/**
 * The values of a repeatable string option (`--suffix a --suffix b`); yargs reads one value per flag. An empty
 * value (`--suffix` with nothing after it, or `--suffix=`) is refused: read as "no suffix", it would silently
 * consume every queue.
 */
export function repeatedValues(name: string, given: readonly string[] | undefined): string[] | undefined {
  if (given === undefined) return undefined;
  if (given.length === 0 || given.some((value) => value === "")) {
    throw new UsageError(`${flag(name)} needs a value (one per flag: ${flag(name)} a ${flag(name)} b)`);
  }
  return [...given];
}

/** How the user writes an option: `-n`, `--message-limit`. */
function flag(name: string): string {
  return name.length === 1 ? `-${name}` : `--${name}`;
}
