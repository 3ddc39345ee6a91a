/**
 * TLS errors, named as Python's `ssl` module names them: {@link SSLError} and its subclasses are
 * {@link OSError}s, so code that catches OSError still catches them. As in Python, `errno` is the
 * OpenSSL `SSL_ERROR_*` number (1 for a failed handshake or verification, 6 for a clean close,
 * 8 for an EOF that broke the protocol) and `code` its name; `reason` is OpenSSL's reason
 * (`CERTIFICATE_VERIFY_FAILED`, `UNSUPPORTED_PROTOCOL`…). The message says what to check.
 *
 * @module
 */
import { OSError, type OSErrorDetails } from "./oserror.js";

/** OpenSSL's `SSL_ERROR_*` numbers, as Python's `ssl` exposes them. @example `e.errno === SSL_ERROR.SSL_ERROR_EOF` */
export const SSL_ERROR = {
  SSL_ERROR_SSL: 1,
  SSL_ERROR_ZERO_RETURN: 6,
  SSL_ERROR_EOF: 8,
} as const;

/** Details of an {@link SSLError}: an OSError's, plus OpenSSL's reason. */
export interface SSLErrorDetails extends OSErrorDetails {
  /** OpenSSL's reason, e.g. `"CERTIFICATE_VERIFY_FAILED"`. */
  reason?: string;
}

/**
 * Python's `ssl.SSLError`: the TLS handshake or record layer failed.
 *
 * @example
 * ```ts
 * try { await dial("tcp", "127.0.0.1:8443", { tls: {} }); }
 * catch (e) { if (e instanceof SSLError) console.log(e.reason, e.message); }
 * ```
 */
export class SSLError extends OSError {
  /** OpenSSL's reason (`"CERTIFICATE_VERIFY_FAILED"`, `"UNSUPPORTED_PROTOCOL"`…). */
  readonly reason: string;
  /** Python's `library` (always `"SSL"`). */
  readonly library = "SSL";

  constructor(details: SSLErrorDetails = {}, code: keyof typeof SSL_ERROR = "SSL_ERROR_SSL", text?: string) {
    const reason = details.reason ?? "SSL_ERROR";
    super(code, details, SSL_ERROR[code], text ?? `TLS failed: ${reason}`);
    this.reason = reason;
  }
}

/**
 * Python's `ssl.SSLCertVerificationError`: the peer's certificate did not verify. `verify_code`
 * is OpenSSL's `X509_V_ERR_*` number (10 expired, 18 self-signed, 20 unknown issuer, 62 wrong
 * host name), `verify_message` its text.
 *
 * @example
 * ```ts
 * try { await dial("tcp", "localhost:8443", { tls: {} }); }
 * catch (e) { if (e instanceof SSLCertVerificationError) console.log(e.verify_code, e.verify_message); }
 * ```
 */
export class SSLCertVerificationError extends SSLError {
  /** OpenSSL's `X509_V_ERR_*` number. */
  readonly verify_code: number;
  /** OpenSSL's text for it: `"certificate has expired"`. */
  readonly verify_message: string;

  constructor(verifyCode: number, verifyMessage: string, details: OSErrorDetails = {}) {
    super(
      { ...details, reason: "CERTIFICATE_VERIFY_FAILED" },
      "SSL_ERROR_SSL",
      `certificate verify failed: ${verifyMessage}`,
    );
    this.verify_code = verifyCode;
    this.verify_message = verifyMessage;
  }
}

/**
 * Python's `ssl.SSLZeroReturnError`: the peer closed the TLS session (close_notify) where more
 * was required — here, before the handshake finished.
 * @example `if (e instanceof SSLZeroReturnError) console.log("the peer closed the TLS session")`
 */
export class SSLZeroReturnError extends SSLError {
  constructor(details: OSErrorDetails = {}) {
    super(
      { ...details, reason: "ZERO_RETURN" },
      "SSL_ERROR_ZERO_RETURN",
      "TLS/SSL connection has been closed",
    );
  }
}

/**
 * Python's `ssl.SSLEOFError`: the connection ended in violation of the protocol (the peer
 * closed the TCP connection during the handshake, or without close_notify where one was needed).
 * @example `if (e instanceof SSLEOFError) console.log("the peer hung up mid-handshake")`
 */
export class SSLEOFError extends SSLError {
  constructor(details: OSErrorDetails = {}) {
    super(
      { ...details, reason: "UNEXPECTED_EOF_WHILE_READING" },
      "SSL_ERROR_EOF",
      "connection ended in violation of the TLS protocol (EOF)",
    );
  }
}

/** OpenSSL's verify codes and what to check, by Node's error code. */
const VERIFY: Readonly<Record<string, readonly [number, string, string]>> = {
  CERT_HAS_EXPIRED: [
    10,
    "certificate has expired",
    "the peer's certificate has expired (check its notAfter date and this machine's clock); renew it",
  ],
  CERT_NOT_YET_VALID: [
    9,
    "certificate is not yet valid",
    "the peer's certificate is not valid yet (check its notBefore date and this machine's clock)",
  ],
  DEPTH_ZERO_SELF_SIGNED_CERT: [
    18,
    "self-signed certificate",
    "the peer's certificate is self-signed; trust it with --ca FILE (ca: in the library) or use a certificate from a CA you trust",
  ],
  SELF_SIGNED_CERT_IN_CHAIN: [
    19,
    "self-signed certificate in certificate chain",
    "the chain ends in a self-signed root nobody here trusts; add that root with --ca FILE",
  ],
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: [
    20,
    "unable to get local issuer certificate",
    "unknown issuer: the CA that signed the peer's certificate is not trusted here; add it with --ca FILE",
  ],
  UNABLE_TO_GET_ISSUER_CERT: [
    2,
    "unable to get issuer certificate",
    "unknown issuer: the peer did not send its intermediate certificate, or its CA is not trusted here",
  ],
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: [
    21,
    "unable to verify the first certificate",
    "unknown issuer: the CA that signed the peer's certificate is not trusted here (or the peer did not send its chain); add the CA with --ca FILE",
  ],
  CERT_SIGNATURE_FAILURE: [
    7,
    "certificate signature failure",
    "the certificate's signature does not match its issuer",
  ],
  CERT_REVOKED: [23, "certificate revoked", "the peer's certificate was revoked"],
  CERT_UNTRUSTED: [27, "certificate not trusted", "the peer's certificate is not trusted for this purpose"],
  CERT_REJECTED: [28, "certificate rejected", "the peer's certificate is rejected for this purpose"],
  INVALID_CA: [24, "invalid CA certificate", "a certificate in the chain is not a CA certificate"],
};

/** OpenSSL reasons (from Node's `ERR_SSL_*` codes) and what to check. */
const PROTOCOL_HINT: Readonly<Record<string, string>> = {
  UNSUPPORTED_PROTOCOL:
    "protocol version: the peer offers only a TLS version below the minimum (TLS 1.2); upgrade the peer, or lower minimum_version if you must",
  TLSV1_ALERT_PROTOCOL_VERSION:
    "protocol version: the peer refused every TLS version we offer (we need TLS 1.2 or newer)",
  NO_PROTOCOLS_AVAILABLE:
    "protocol version: no TLS version is allowed by both the minimum and the maximum set",
  WRONG_VERSION_NUMBER: "the peer does not speak TLS here (a plain-text service, or the wrong port?)",
  PACKET_LENGTH_TOO_LONG: "the peer does not speak TLS here (a plain-text service, or the wrong port?)",
  HTTP_REQUEST: "the peer spoke plain HTTP to a TLS port; use https:// or drop --tls on the server",
  TLSV1_ALERT_UNKNOWN_CA: "the peer does not trust our certificate's issuer (give it our CA)",
  SSLV3_ALERT_BAD_CERTIFICATE:
    "the peer rejected our certificate (expired, wrong name or untrusted on its side)",
  SSLV3_ALERT_CERTIFICATE_EXPIRED: "the peer says our certificate has expired",
  SSLV3_ALERT_HANDSHAKE_FAILURE:
    "no cipher or parameter both sides accept (check protocol versions and ciphers)",
  NO_SHARED_CIPHER: "no cipher both sides accept (check protocol versions and ciphers)",
  TLSV1_ALERT_NO_APPLICATION_PROTOCOL: "no ALPN protocol both sides accept",
  CERTIFICATE_VERIFY_FAILED: "our certificate was not accepted by the peer",
};

/**
 * The one place a Node TLS error becomes an {@link SSLError}: verification failures become
 * {@link SSLCertVerificationError} (a wrong host name is `verify_code` 62, as OpenSSL's
 * X509_V_ERR_HOSTNAME_MISMATCH), OpenSSL's `ERR_SSL_*` errors an SSLError with their reason, a
 * connection lost mid-handshake {@link SSLEOFError}; anything else is returned as undefined
 * (the caller converts it as a socket error).
 *
 * @example
 * ```ts
 * sock.once("error", (e) => reject(toSSLError(e, { op: "do_handshake", address: "127.0.0.1:443" }) ?? e));
 * ```
 */
export function toSSLError(err: unknown, details: OSErrorDetails = {}): SSLError | undefined {
  if (err instanceof SSLError) return err;
  const e = err as { code?: unknown; message?: unknown; reason?: unknown } | null;
  const code = typeof e?.code === "string" ? e.code : "";
  const message = typeof e?.message === "string" ? e.message : "";
  const d = { ...details, cause: err };
  if (code === "ERR_TLS_CERT_ALTNAME_INVALID") {
    const why = typeof e?.reason === "string" ? e.reason : message;
    return new SSLCertVerificationError(
      62,
      `Hostname mismatch, certificate is not valid for this name. ${why}`,
      {
        ...d,
        hint: "wrong host name: the certificate does not name the host you connected to; connect by a name it lists (see `sockit info --tls`) or set servername",
      },
    );
  }
  const v = Object.hasOwn(VERIFY, code) ? VERIFY[code] : undefined;
  if (v !== undefined) return new SSLCertVerificationError(v[0], v[1], { ...d, hint: v[2] });
  if (code.startsWith("ERR_SSL_")) {
    const reason = code.slice("ERR_SSL_".length);
    const hint = Object.hasOwn(PROTOCOL_HINT, reason) ? PROTOCOL_HINT[reason] : message || undefined;
    return new SSLError({ ...d, reason, ...(hint === undefined ? {} : { hint }) });
  }
  if (code === "ECONNRESET" && message.includes("before secure TLS connection")) {
    return new SSLEOFError({
      ...d,
      hint: "the peer closed the connection during the TLS handshake (it may not speak TLS, or it rejected us)",
    });
  }
  return undefined;
}
