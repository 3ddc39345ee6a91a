/**
 * TLS in the Go-style face: the `tls` option of {@link dial} and {@link listen}, and
 * {@link upgradeTLS} for STARTTLS-style protocols (SMTP, FTP's AUTH TLS, IMAP…).
 *
 * @module
 */
import { startServerTLS, startTLS, type TLSOptions as CoreTLSOptions, tlsContext } from "../core/tls.js";
import { argTypeError } from "../errors/index.js";
import { Conn } from "./conn.js";
import { checkOptions, optBool, optNumber, optSignal, optString } from "./options.js";

export type { PeerCertificate, PemInput, TLSInfo, TLSVersion } from "../core/tls.js";

/**
 * TLS options of {@link dial}, {@link listen} and {@link upgradeTLS}. Secure by default: the
 * peer's certificate is verified (Node's root CAs plus `ca`), the host name checked, TLS 1.2
 * the minimum. A server needs `cert` and `key`.
 *
 * @example
 * ```ts
 * const { cert, key } = createCertificate({ hosts: ["localhost"] });
 * const ln = await listen("tcp", "127.0.0.1:0", { tls: { cert, key } });
 * const conn = await dial("tcp", `localhost:${ln.port}`, { tls: { ca: cert } });
 * ```
 */
export type TLSOptions = Omit<CoreTLSOptions, "context">;

/**
 * Options of {@link upgradeTLS}: TLS options, which side we are, and bounds on the handshake.
 * @example `const o: UpgradeOptions = { server: true, cert, key, timeout: 5000 };`
 */
export interface UpgradeOptions extends TLSOptions {
  /** Take the server's side (default: the client's). */
  readonly server?: boolean;
  /** Give up the handshake after this many ms (TimeoutError). */
  readonly timeout?: number;
  /** Abort the handshake (InterruptedError). */
  readonly signal?: AbortSignal;
}

const VERSIONS = new Set(["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"]);

function pem(name: string, v: unknown): void {
  if (v === undefined || typeof v === "string" || Buffer.isBuffer(v)) return;
  if (Array.isArray(v) && v.every((x) => typeof x === "string" || Buffer.isBuffer(x))) return;
  throw argTypeError(name, "PEM text (a string or Buffer, or an array of them)", v);
}

/**
 * Checks a `tls` option object field by field (TypeError before anything is opened).
 * @example `const t = checkTLSOptions(opts.tls)`
 */
export function checkTLSOptions(v: unknown, name = "tls"): TLSOptions {
  const o = checkOptions(name, v as TLSOptions | undefined);
  optString(`${name}.serverName`, o.serverName);
  optBool(`${name}.rejectUnauthorized`, o.rejectUnauthorized);
  optBool(`${name}.checkHostname`, o.checkHostname);
  optBool(`${name}.requestCert`, o.requestCert);
  pem(`${name}.ca`, o.ca);
  pem(`${name}.cert`, o.cert);
  pem(`${name}.key`, o.key);
  if (o.session !== undefined && !Buffer.isBuffer(o.session))
    throw argTypeError(`${name}.session`, "a Buffer from conn.tlsSession", o.session);
  for (const k of ["minVersion", "maxVersion"] as const) {
    const x = o[k];
    if (x !== undefined && !VERSIONS.has(x)) throw argTypeError(`${name}.${k}`, '"TLSv1.2" or "TLSv1.3"', x);
  }
  if (o.alpn !== undefined && !(Array.isArray(o.alpn) && o.alpn.every((p) => typeof p === "string")))
    throw argTypeError(`${name}.alpn`, "an array of protocol names", o.alpn);
  return o;
}

/**
 * Starts TLS on a connected plain connection — STARTTLS: after the protocol agreed to switch
 * (SMTP's `220 Ready to start TLS`, FTP's `234`), call this and use the Conn it returns; the
 * one passed in is closed (do not use it again). As the client (default) it verifies the
 * server (pass `serverName` when you dialled an address, not a name); with `server: true` it
 * presents `cert`/`key`. Refuses with EINVAL while received bytes are unread: read the peer's
 * whole reply first (plain text after the switch would be lost, or injected). Rejects
 * {@link SSLCertVerificationError} / {@link SSLError} when the handshake fails.
 *
 * @example
 * ```ts
 * await conn.write("STARTTLS\r\n");
 * await conn.readLine(); // "220 Ready to start TLS"
 * const secure = await upgradeTLS(conn, { serverName: "mail.example", timeout: 5000 });
 * ```
 */
export async function upgradeTLS(conn: Conn, opts: UpgradeOptions = {}): Promise<Conn> {
  if (!(conn instanceof Conn)) throw argTypeError("conn", "a Conn from dial or accept", conn);
  const o = checkTLSOptions(opts, "opts") as UpgradeOptions;
  const server = optBool("server", o.server) ?? false;
  const timeout = optNumber("timeout", o.timeout, 0, 2 ** 31 - 1);
  const signal = optSignal(o.signal);
  const w = { ...(timeout === undefined ? {} : { timeout }), ...(signal === undefined ? {} : { signal }) };
  const s = Conn._core(conn);
  if (server) {
    if (o.cert === undefined || o.key === undefined) {
      throw argTypeError("opts.cert", "a certificate and key (PEM) for the server side", o.cert);
    }
    return new Conn(await startServerTLS(s, { ...o, context: tlsContext(o) }, w));
  }
  return new Conn(await startTLS(s, o, w));
}

export { type Certificate, type CertOptions, createCertificate, fingerprint } from "../core/cert.js";
