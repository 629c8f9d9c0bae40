/** Faults the model SQS injects, and the errors it fails calls with: shaped as the SDK's. */

/** A fault the next matching call meets. */
export type SqsFault =
  | { readonly action: "receive"; readonly queueUrl: string; readonly error: "unavailable" | "throttle" | "network" }
  | { readonly action: "ack"; readonly error: "unavailable" | "network" | "entry" | "invalidEntry" }
  /** Every call fails with a refused connection for this long (fake ms). */
  | { readonly action: "outage"; readonly ms: number };

/** An error as the SDK would throw it for the fault. */
export function serviceError(error: "unavailable" | "throttle" | "network"): Error {
  if (error === "network")
    return Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED" });
  const [name, status] = error === "throttle" ? ["ThrottlingException", 400] : ["ServiceUnavailable", 503];
  return Object.assign(new Error(`model: ${name}`), { name, Code: name, $metadata: { httpStatusCode: status } });
}

/** The error an aborted call rejects with. */
export function abortError(signal: AbortSignal | undefined): Error {
  return Object.assign(new Error("model: aborted", { cause: signal?.reason }), { name: "AbortError" });
}
