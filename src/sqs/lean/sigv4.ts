import { createHmac, hash } from "node:crypto";
import type { AwsCredentialIdentity } from "@smithy/types";

/**
 * SigV4 header signing for the lean path's POSTs, giving the SDK's `SignatureV4.signRequest` output byte for
 * byte (a unit test checks them side by side) at a fraction of its work per request. The SDK signer clones
 * the request, sorts and normalizes every header, hashes the body, and runs an HMAC just to look its signing
 * key up: five hash objects and some forty short-lived objects for every long poll. Here the signing key is
 * derived once per day, region, service and credentials; the body's hash is kept for a body signed again (a
 * queue's receive is the same request every time); the canonical request is joined in one string; and the
 * two hashes left are one-shot. Credentials still come from the SDK signer's own provider on every request,
 * so a provider that refreshes (SSO, web identity, ECS task role) is read as the SDK would read it.
 */

/** The SDK's `SignatureV4` members this signer borrows (public on `SignatureV4Base`). */
export interface SdkSigV4 {
  readonly credentialProvider: () => Promise<AwsCredentialIdentity>;
  readonly applyChecksum: boolean;
  getCanonicalPath(request: { path: string }): string;
}

/** Whether `signer` is the SDK's SignatureV4 (a custom signer keeps signing every request itself). */
export function isSdkSigV4(signer: unknown): signer is SdkSigV4 {
  const candidate = signer as Partial<SdkSigV4> | null;
  return (
    typeof candidate === "object" &&
    candidate !== null &&
    candidate.constructor.name === "SignatureV4" &&
    typeof candidate.credentialProvider === "function" &&
    typeof candidate.applyChecksum === "boolean" &&
    typeof candidate.getCanonicalPath === "function"
  );
}

/** Headers the SDK never signs (`ALWAYS_UNSIGNABLE_HEADERS`, and its `proxy-`/`sec-` patterns). */
const UNSIGNABLE = new Set([
  "authorization",
  "cache-control",
  "connection",
  "expect",
  "from",
  "keep-alive",
  "max-forwards",
  "pragma",
  "referer",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "user-agent",
  "x-amzn-trace-id",
]);

function signable(name: string): boolean {
  return !UNSIGNABLE.has(name) && !name.startsWith("proxy-") && !name.startsWith("sec-");
}

/** Bodies whose hash is kept: a daemon's receives, one per queue and size; anything past that is hashed anew. */
const MAX_CACHED_BODIES = 4_096;

/** One request to sign: a POST with lower-case header names and a string body. */
export interface SignInput {
  /** The canonical path (the SDK signer's `getCanonicalPath`). */
  readonly canonicalPath: string;
  /** Lower-case names; `x-amz-date`, `x-amz-security-token` and `authorization` are added here. */
  readonly headers: Record<string, string>;
  readonly body: string;
  /**
   * Whether this body is sent again and again (a queue's receive, which asks the same each time): its hash is
   * kept. Other bodies (deletes and visibility changes, each with its own receipt handles) are hashed once and
   * not kept, so the cache holds receives only. @defaultValue false
   */
  readonly repeats?: boolean;
  readonly signingDate: Date;
  readonly signingRegion: string;
  readonly signingService: string;
}

/** The SDK signer's header signing, with its derived key and body hashes kept. */
export class SigV4 {
  readonly #sdk: SdkSigV4;
  /** The one signing key in use, and what it was derived from. */
  #key: { scope: string; credentials: AwsCredentialIdentity; key: Buffer } | undefined;
  readonly #bodyHashes = new Map<string, string>();
  readonly #canonicalPaths = new Map<string, string>();

  constructor(sdk: SdkSigV4) {
    this.#sdk = sdk;
  }

  /** How many body hashes are kept now (receives only). */
  get keptBodyHashes(): number {
    return this.#bodyHashes.size;
  }

  /** The canonical path for a request path, as the SDK signer writes it. */
  canonicalPath(path: string): string {
    let canonical = this.#canonicalPaths.get(path);
    if (canonical === undefined) {
      canonical = this.#sdk.getCanonicalPath({ path });
      // SQS's is `/`; a few at most.
      if (this.#canonicalPaths.size < 64) this.#canonicalPaths.set(path, canonical);
    }
    return canonical;
  }

  /** Adds the SDK signer's headers to `input.headers` (in place), `authorization` last. */
  async sign(input: SignInput): Promise<Record<string, string>> {
    const credentials = await this.#sdk.credentialProvider();
    if (typeof credentials?.accessKeyId !== "string" || typeof credentials.secretAccessKey !== "string") {
      throw new Error("Resolved credential object is not valid");
    }
    const { headers, body } = input;
    const longDate = input.signingDate
      .toISOString()
      .replace(/\.\d{3}Z$/, "Z")
      .replace(/[-:]/g, "");
    const shortDate = longDate.slice(0, 8);
    const scope = `${shortDate}/${input.signingRegion}/${input.signingService}/aws4_request`;
    headers["x-amz-date"] = longDate;
    if (credentials.sessionToken) headers["x-amz-security-token"] = credentials.sessionToken;
    const payloadHash = input.repeats === true ? this.#keptHash(body) : hash("sha256", body, "hex");
    if (this.#sdk.applyChecksum) headers["x-amz-content-sha256"] = payloadHash;
    const names = Object.keys(headers).filter(signable).sort();
    let canonicalHeaders = "";
    for (const name of names) canonicalHeaders += `${name}:${normalize(headers[name]!)}\n`;
    const signedHeaders = names.join(";");
    const canonicalRequest = `POST\n${input.canonicalPath}\n\n${canonicalHeaders}\n${signedHeaders}\n${payloadHash}`;
    const stringToSign = `AWS4-HMAC-SHA256\n${longDate}\n${scope}\n${hash("sha256", canonicalRequest, "hex")}`;
    const signature = createHmac("sha256", this.#signingKey(credentials, scope, shortDate, input))
      .update(stringToSign)
      .digest("hex");
    headers["authorization"] =
      `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${scope}, ` +
      `SignedHeaders=${signedHeaders}, Signature=${signature}`;
    return headers;
  }

  #keptHash(body: string): string {
    let payloadHash = this.#bodyHashes.get(body);
    if (payloadHash === undefined) {
      payloadHash = hash("sha256", body, "hex");
      // Full: start again rather than keep the first bodies forever (receives that ask other sizes come later).
      if (this.#bodyHashes.size >= MAX_CACHED_BODIES) this.#bodyHashes.clear();
      this.#bodyHashes.set(body, payloadHash);
    }
    return payloadHash;
  }

  /** The derived key for a scope, kept until the day, region, service or credentials change. */
  #signingKey(credentials: AwsCredentialIdentity, scope: string, shortDate: string, input: SignInput): Buffer {
    const kept = this.#key;
    if (
      kept !== undefined &&
      kept.scope === scope &&
      kept.credentials.accessKeyId === credentials.accessKeyId &&
      kept.credentials.secretAccessKey === credentials.secretAccessKey
    ) {
      return kept.key;
    }
    let key: Buffer = createHmac("sha256", `AWS4${credentials.secretAccessKey}`).update(shortDate).digest();
    for (const part of [input.signingRegion, input.signingService, "aws4_request"]) {
      key = createHmac("sha256", key).update(part).digest();
    }
    this.#key = { scope, credentials, key };
    return key;
  }
}

/** A header value as the SDK signer canonicalizes it: line breaks to spaces, runs of blanks to one, trimmed. */
function normalize(value: string): string {
  return /[\r\n\t]| {2}|^ | $/.test(value)
    ? value
        .replace(/[\r\n]/g, " ")
        .replace(/[ \t]+/g, " ")
        .replace(/^ | $/g, "")
    : value;
}
