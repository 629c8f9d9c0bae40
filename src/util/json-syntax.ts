/**
 * Where a text stops being valid JSON, found without quoting it. V8's own SyntaxError message quotes the text
 * (`Unexpected token 'S', "SSN 078-05-1120" is not valid JSON`), so it can never be shown for a message body, a
 * config file or a command-line argument that may hold personal data or secrets. This scanner follows the JSON
 * grammar (RFC 8259) only to find the offset; it runs after `JSON.parse` has failed, never on the hot path.
 */

/** Thrown inside the scanner to unwind to the offending offset; never leaves {@link jsonErrorOffset}. */
class Stop extends Error {
  constructor(readonly offset: number) {
    super(`not JSON at ${offset}`);
  }
}

/**
 * The UTF-16 offset of the first character at which `text` stops being valid JSON (`text.length` when it ends
 * too early), or `undefined` when it is valid JSON or too deeply nested to scan.
 */
export function jsonErrorOffset(text: string): number | undefined {
  let at = 0;
  const stop = (offset = at): never => {
    throw new Stop(offset);
  };
  const space = (): void => {
    while (at < text.length && " \t\n\r".includes(text[at]!)) at += 1;
  };
  const digits = (): void => {
    if (!isDigit(text[at])) stop();
    while (isDigit(text[at])) at += 1;
  };
  const word = (expected: string): void => {
    for (const char of expected) {
      if (text[at] !== char) stop();
      at += 1;
    }
  };
  const string = (): void => {
    at += 1; // the opening quote
    for (;;) {
      const char = text[at];
      if (char === undefined || char.charCodeAt(0) < 0x20) stop();
      if (char === '"') {
        at += 1;
        return;
      }
      if (char !== "\\") {
        at += 1;
        continue;
      }
      const escape = text[at + 1];
      if (escape !== undefined && '"\\/bfnrt'.includes(escape)) {
        at += 2;
      } else if (escape === "u") {
        at += 2;
        for (let n = 0; n < 4; n += 1) {
          if (!/^[0-9a-fA-F]$/.test(text[at] ?? "")) stop();
          at += 1;
        }
      } else {
        stop(at + 1);
      }
    }
  };
  const number = (): void => {
    if (text[at] === "-") at += 1;
    if (text[at] === "0") at += 1;
    else digits();
    if (text[at] === ".") {
      at += 1;
      digits();
    }
    if (text[at] === "e" || text[at] === "E") {
      at += 1;
      if (text[at] === "+" || text[at] === "-") at += 1;
      digits();
    }
  };
  const list = (close: "]" | "}", item: () => void): void => {
    at += 1; // the opening bracket
    space();
    if (text[at] === close) {
      at += 1;
      return;
    }
    for (;;) {
      item();
      space();
      if (text[at] === close) {
        at += 1;
        return;
      }
      if (text[at] !== ",") stop();
      at += 1;
      space();
    }
  };
  const value = (): void => {
    const char = text[at];
    if (char === "{") {
      list("}", () => {
        if (text[at] !== '"') stop();
        string();
        space();
        if (text[at] !== ":") stop();
        at += 1;
        space();
        value();
      });
    } else if (char === "[") list("]", value);
    else if (char === '"') string();
    else if (char === "-" || isDigit(char)) number();
    else if (char === "t") word("true");
    else if (char === "f") word("false");
    else if (char === "n") word("null");
    else stop();
  };
  try {
    space();
    value();
    space();
    return at < text.length ? at : undefined;
  } catch (error) {
    if (error instanceof Stop) return error.offset;
    // A RangeError from nesting deeper than the call stack: no offset, rather than a guess.
    return undefined;
  }
}

function isDigit(char: string | undefined): boolean {
  return char !== undefined && char >= "0" && char <= "9";
}

/**
 * Why `text` is not JSON, without any of its content: `SyntaxError at position 12`, or
 * `SyntaxError: ends early at position 40` when the text stops before the JSON value is complete.
 */
export function jsonSyntaxReason(text: string): string {
  const offset = jsonErrorOffset(text);
  if (offset === undefined) return "SyntaxError";
  return offset >= text.length ? `SyntaxError: ends early at position ${offset}` : `SyntaxError at position ${offset}`;
}
