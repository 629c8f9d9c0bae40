/**
 * JSON exactly as Python's `json.dumps(value)` writes it with default arguments, so that sqsd's encodings of
 * base64json and model-instance messages are byte-identical to what boto and django-sqs produce:
 * `", "` and `": "` separators, every character outside printable ASCII escaped as `\uXXXX` (ensure_ascii),
 * integers written in full, and floats as Python's `repr` writes them.
 */
export function pythonJsonDumps(value: unknown): string {
  if (value === null) return "null";
  switch (typeof value) {
    case "boolean":
      return value ? "true" : "false";
    case "number":
      return pythonNumber(value);
    case "bigint":
      return value.toString();
    case "string":
      return pythonString(value);
    case "object":
      if (Array.isArray(value)) return `[${value.map((item) => pythonJsonDumps(item ?? null)).join(", ")}]`;
      if (typeof (value as { toJSON?: unknown }).toJSON === "function") {
        return pythonJsonDumps((value as { toJSON: () => unknown }).toJSON());
      }
      return `{${Object.entries(value)
        .filter(([, item]) => item !== undefined && typeof item !== "function")
        .map(([key, item]) => `${pythonString(key)}: ${pythonJsonDumps(item)}`)
        .join(", ")}}`;
    default:
      throw new TypeError(`a value of type ${typeof value} has no JSON form`);
  }
}

function pythonString(text: string): string {
  let out = '"';
  for (let index = 0; index < text.length; index += 1) {
    const code = text.charCodeAt(index);
    const char = text[index]!;
    if (char === '"') out += '\\"';
    else if (char === "\\") out += "\\\\";
    else if (char === "\n") out += "\\n";
    else if (char === "\r") out += "\\r";
    else if (char === "\t") out += "\\t";
    else if (char === "\b") out += "\\b";
    else if (char === "\f") out += "\\f";
    // Python escapes everything outside space..tilde; UTF-16 code units are what it escapes too.
    else if (code < 0x20 || code > 0x7e) out += `\\u${code.toString(16).padStart(4, "0")}`;
    else out += char;
  }
  return `${out}"`;
}

function pythonNumber(value: number): string {
  if (!Number.isFinite(value)) {
    // Python writes NaN/Infinity/-Infinity, which no JSON parser accepts; refusing is the honest choice.
    throw new TypeError(`${value} has no JSON form`);
  }
  // A safe integer is an int on the Python side, written with every digit. Past 2^53 a JS number can only
  // have come from a float, so it is written as Python writes floats.
  if (Number.isSafeInteger(value)) return String(value);
  // Floats: Python's repr uses the same shortest round-trip digits as JS, but switches to exponent form
  // outside 1e-4 <= |x| < 1e16, writes at least two exponent digits ("1e-07"), and ends integral floats
  // in ".0".
  const [mantissa = "", exponentText = "0"] = value.toExponential().split("e");
  const exponent = Number(exponentText);
  if (exponent < -4 || exponent >= 16) {
    const sign = exponent < 0 ? "-" : "+";
    return `${mantissa}e${sign}${String(Math.abs(exponent)).padStart(2, "0")}`;
  }
  return Number.isInteger(value) ? `${value}.0` : String(value);
}
