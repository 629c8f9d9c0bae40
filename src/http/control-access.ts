import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { BlockList, isIP } from "node:net";

/**
 * True when the Authorization header is `Bearer <token>`. Both sides are hashed to SHA-256 first and the
 * fixed-length digests compared in constant time: comparing the raw strings needs a length check first, and
 * its early exit tells a guesser the token's length.
 */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const given = /^Bearer (.+)$/i.exec(header ?? "")?.[1] ?? "";
  return timingSafeEqual(sha256(given), sha256(token));
}

function sha256(text: string): Buffer {
  return createHash("sha256").update(text, "utf8").digest();
}

/**
 * True when a browser page on another site cannot have sent this request without a CORS preflight (which this
 * server never approves): it carries an Authorization header, or a JSON content type. A cross-site HTML form
 * can send neither, so requiring one of them stops a page from pausing a daemon it can reach through a
 * visitor's browser.
 */
export function isPreflightedRequest(request: IncomingMessage): boolean {
  if (request.headers.authorization !== undefined) return true;
  const mediaType = (request.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase();
  return mediaType === "application/json";
}

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet("127.0.0.0", 8, "ipv4");
LOOPBACK.addAddress("::1", "ipv6");

/**
 * True when `host` (an IP address or `localhost`) reaches only this machine. Any other name counts as not
 * loopback: the warning it leads to is better given once too often than missed.
 */
export function isLoopbackHost(host: string): boolean {
  if (host.toLowerCase() === "localhost") return true;
  const family = isIP(host);
  return family !== 0 && LOOPBACK.check(host, family === 4 ? "ipv4" : "ipv6");
}

/**
 * Whether the control routes answer, as the dashboard tells its viewer: with a token they need it; without
 * one they are off unless `allowUnauthenticatedControl`.
 */
export function controlAvailability(http: {
  readonly token?: string | undefined;
  readonly allowUnauthenticatedControl: boolean;
}): {
  enabled: boolean;
  needsToken: boolean;
  reason: string | null;
} {
  if (http.token !== undefined) return { enabled: true, needsToken: true, reason: null };
  if (http.allowUnauthenticatedControl) return { enabled: true, needsToken: false, reason: null };
  return {
    enabled: false,
    needsToken: false,
    reason: "control routes are off: the daemon has no http.token (nor http.allowUnauthenticatedControl)",
  };
}
