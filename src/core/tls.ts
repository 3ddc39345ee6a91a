/**
 * TLS on the core: a TLS connection is a {@link StreamSocket} over a `node:tls` TLSSocket (which
 * is a `net.Socket`), so it keeps the pull model, the bounded receive queue (the TLS socket is
 * paused above the high-water mark, which stops reading the TCP socket under it) and send
 * backpressure. `node:tls` is imported here only, as `node:net` is imported only by the core.
 *
 * Secure by default: the peer's certificate is verified against Node's bundled root CAs plus
 * any `ca` given, the host name is checked, and TLS 1.2 is the minimum version.
 *
 * What degrades: the reset probe reads the TCP descriptor under the TLS layer (it still tells a
 * reset from an orderly close); `abort()` resets the TCP connection under the TLS layer (no
 * close_notify); a TLS session cannot be unwrapped back to plain text (Node cannot).
 *
 * @module
 */
import { createHash } from "node:crypto";
import type * as net from "node:net";
import * as tls from "node:tls";
import {
  argTypeError,
  makeOSError,
  type OSError,
  SSLEOFError,
  toSocketError,
  toSSLError,
} from "../errors/index.js";
import { span, sym, tracing } from "../trace.js";
import { type Endpoint, formatEndpoint, isUnix } from "./endpoint.js";
import { releaseFd } from "./fd.js";
import type { StreamListener } from "./listener.js";
import { StreamSocket, type UnixNames } from "./stream.js";
import type { Wait } from "./wait.js";

/** PEM text or bytes, or several. @example `const ca: PemInput = [fs.readFileSync("a.pem"), fs.readFileSync("b.pem")];` */
export type PemInput = string | Buffer | ReadonlyArray<string | Buffer>;

/** TLS versions sockit accepts as bounds. @example `const v: TLSVersion = "TLSv1.3";` */
export type TLSVersion = "TLSv1" | "TLSv1.1" | "TLSv1.2" | "TLSv1.3";

/** The longest a server waits for a client's handshake by default (ms). */
export const TLS_HANDSHAKE_TIMEOUT_MS = 10_000;

/**
 * Options of both sides. Verification is on unless `rejectUnauthorized` is false.
 *
 * @example
 * ```ts
 * const opts: TLSOptions = { serverName: "localhost", ca: fs.readFileSync("ca.pem") };
 * ```
 */
export interface TLSOptions {
  /** The name sent as SNI and checked against the certificate (client; default: the host dialled). */
  readonly serverName?: string | undefined;
  /** Extra trusted CA certificates (PEM), added to the default roots. */
  readonly ca?: PemInput | undefined;
  /** Verify the peer's certificate (default true; a server verifies only with `requestCert`). */
  readonly rejectUnauthorized?: boolean | undefined;
  /** Check the host name against the certificate (client; default true). */
  readonly checkHostname?: boolean | undefined;
  /** Our certificate chain (PEM): required for a server. */
  readonly cert?: PemInput | undefined;
  /** Our private key (PEM). */
  readonly key?: PemInput | undefined;
  /** Lowest TLS version accepted (default TLSv1.2). */
  readonly minVersion?: TLSVersion | undefined;
  /** Highest TLS version offered (default TLSv1.3). */
  readonly maxVersion?: TLSVersion | undefined;
  /** ALPN protocols offered (client) or accepted (server), in order of preference. */
  readonly alpn?: readonly string[] | undefined;
  /** Server: ask the client for a certificate (verified when `rejectUnauthorized` is not false). */
  readonly requestCert?: boolean | undefined;
  /** A context made once by {@link tlsContext}, instead of cert/key/ca/versions (faster). */
  readonly context?: tls.SecureContext | undefined;
  /** Client: a session from {@link tlsSession} to resume (FTPS data connections resume the control connection's). */
  readonly session?: Buffer | undefined;
}

/**
 * What a finished handshake agreed on, and the peer's certificate chain.
 * @example `const { protocol, cipher } = tlsInfo(s)!; // "TLSv1.3", "TLS_AES_256_GCM_SHA384"`
 */
export interface TLSInfo {
  /** `"TLSv1.3"`, `"TLSv1.2"`… */
  readonly protocol: string;
  /** The cipher suite's IANA name: `"TLS_AES_256_GCM_SHA384"`. */
  readonly cipher: string;
  /** The cipher's secret bits. */
  readonly bits: number;
  /** The ALPN protocol agreed on, if any. */
  readonly alpn: string | undefined;
  /** True when the peer's certificate verified. */
  readonly authorized: boolean;
  /** Why it did not verify (OpenSSL's code, e.g. `"DEPTH_ZERO_SELF_SIGNED_CERT"`), when verification was off. */
  readonly verifyError: string | undefined;
  /** True when the handshake resumed an earlier session (abbreviated handshake). */
  readonly resumed: boolean;
  /** The peer's certificate and its issuers (leaf first); empty when the peer sent none. */
  readonly chain: readonly PeerCertificate[];
}

/**
 * One certificate of the peer's chain, readable.
 * @example `console.log(info.chain[0]?.subject, info.chain[0]?.validTo)`
 */
export interface PeerCertificate {
  /** Subject, e.g. `"CN=localhost"`. */
  readonly subject: string;
  /** Issuer, e.g. `"CN=localhost"` for a self-signed one. */
  readonly issuer: string;
  /** Not valid before (Date). */
  readonly validFrom: Date;
  /** Not valid after (Date). */
  readonly validTo: Date;
  /** Subject alternative names, e.g. `["DNS:localhost", "IP Address:127.0.0.1"]`. */
  readonly subjectAltNames: readonly string[];
  /** SHA-256 fingerprint, colon-separated hex. */
  readonly fingerprint256: string;
  /** Serial number (hex). */
  readonly serialNumber: string;
  /** The certificate in DER. */
  readonly raw: Buffer;
}

interface TLSState {
  readonly sock: tls.TLSSocket;
  ready: Promise<TLSInfo>;
  /** The latest session (ticket) the server sent us, for resumption. */
  session?: Buffer;
}

const STATE = new WeakMap<StreamSocket, TLSState>();

function list(v: PemInput | undefined): Array<string | Buffer> {
  if (v === undefined) return [];
  return typeof v === "string" || Buffer.isBuffer(v) ? [v] : [...v];
}

/**
 * Makes a secure context from `opts` once (a server's, or a client's extra CAs): reuse it for
 * every connection with `{ context }`. Rejects bad PEM with an SSLError naming the problem.
 *
 * @example
 * ```ts
 * const context = tlsContext({ cert: fs.readFileSync("cert.pem"), key: fs.readFileSync("key.pem") });
 * ```
 */
export function tlsContext(opts: TLSOptions): tls.SecureContext {
  if (opts === null || typeof opts !== "object") throw argTypeError("tls", "an options object", opts);
  const extra = list(opts.ca);
  // a context with extra CAs parses every root certificate (~30 ms): the same settings reuse one
  const key = createHash("sha256")
    .update(
      [opts.minVersion, opts.maxVersion, ...extra, "|", ...list(opts.cert), "|", ...list(opts.key)].join(
        "\0",
      ),
    )
    .digest("base64");
  const known = CONTEXTS.get(key);
  if (known !== undefined) return known;
  const made = makeContext(opts, extra);
  if (CONTEXTS.size >= MAX_CONTEXTS) CONTEXTS.delete(CONTEXTS.keys().next().value!);
  CONTEXTS.set(key, made);
  return made;
}

/** Secure contexts by their settings (a few; the oldest goes first). */
const CONTEXTS = new Map<string, tls.SecureContext>();
const MAX_CONTEXTS = 32;

function makeContext(opts: TLSOptions, extra: Array<string | Buffer>): tls.SecureContext {
  try {
    return tls.createSecureContext({
      minVersion: opts.minVersion ?? "TLSv1.2",
      ...(opts.maxVersion === undefined ? {} : { maxVersion: opts.maxVersion }),
      ...(extra.length === 0 ? {} : { ca: [...tls.rootCertificates, ...extra] }),
      ...(opts.cert === undefined ? {} : { cert: list(opts.cert) }),
      ...(opts.key === undefined ? {} : { key: list(opts.key) }),
      // TLS 1.0/1.1 need OpenSSL's security level 0 to be negotiable at all
      ...(opts.minVersion === "TLSv1" || opts.minVersion === "TLSv1.1"
        ? { ciphers: "DEFAULT@SECLEVEL=0" }
        : {}),
    });
  } catch (err) {
    throw (
      toSSLError(err, {
        op: "load_cert_chain",
        hint: "check that the files are PEM and the key matches the certificate",
      }) ??
      toSocketError(err, {
        op: "load_cert_chain",
        hint: `the certificate, key or CA is not usable: ${(err as Error).message}`,
      })
    );
  }
}

/** The host name to check and send as SNI: SNI is never an IP address. */
function names(opts: TLSOptions, remote: Endpoint | undefined, host: string | undefined) {
  const ip = remote !== undefined && !isUnix(remote) ? remote.address : undefined;
  const check = opts.serverName ?? host ?? ip ?? "localhost";
  const sni = check.includes(":") || /^\d+\.\d+\.\d+\.\d+$/.test(check) ? undefined : check;
  return { check, sni };
}

/** The error a failed handshake gives: an SSLError when TLS says why, else a socket error. */
function handshakeError(err: unknown, address: string): OSError {
  return (
    toSSLError(err, { op: "do_handshake", address }) ?? toSocketError(err, { op: "do_handshake", address })
  );
}

/**
 * Starts TLS as the client on a connected socket (after `connectStream`, or after a STARTTLS
 * exchange) and finishes the handshake; the socket passed in is closed (its descriptor number
 * goes on). Refuses (EINVAL) when received bytes are still unread. `host` is the name dialled:
 * the default SNI and host name to check. Rejects {@link SSLCertVerificationError} when the
 * certificate does not verify, another SSLError when the handshake fails.
 *
 * @example
 * ```ts
 * const plain = await connectStream({ address: "127.0.0.1", port: 8443, family: 4 });
 * const s = await startTLS(plain, { serverName: "localhost", ca: caPem }, { timeout: 5000 });
 * ```
 */
export function startTLS(
  s: StreamSocket,
  opts: TLSOptions = {},
  w?: Wait,
  host?: string,
): Promise<StreamSocket> {
  const h = s.handOff("do_handshake");
  const { check, sni } = names(opts, h.remote, host);
  const verify = opts.rejectUnauthorized !== false;
  const checkName = verify && opts.checkHostname !== false;
  const t = tls.connect({
    socket: h.sock,
    secureContext: opts.context ?? tlsContext(opts),
    host: check,
    ...(sni === undefined ? {} : { servername: sni }),
    rejectUnauthorized: verify,
    ...(checkName ? {} : { checkServerIdentity: () => undefined }),
    ...(opts.alpn === undefined ? {} : { ALPNProtocols: [...opts.alpn] }),
    ...(opts.session === undefined ? {} : { session: opts.session }),
  });
  return finish(t, h, "secureConnect", w);
}

/**
 * Starts TLS as the server on a connected socket (STARTTLS, AUTH TLS) and finishes the
 * handshake. `opts` needs `cert` and `key` (or a `context`).
 *
 * @example
 * ```ts
 * await s.send(Buffer.from("220 Ready to start TLS\r\n"));
 * const secure = await startServerTLS(s, { context });
 * ```
 */
export function startServerTLS(s: StreamSocket, opts: TLSOptions, w?: Wait): Promise<StreamSocket> {
  const h = s.handOff("do_handshake");
  return finish(serverSocket(h.sock, opts), h, "secure", w);
}

function serverSocket(sock: net.Socket, opts: TLSOptions): tls.TLSSocket {
  return new tls.TLSSocket(sock, {
    isServer: true,
    secureContext: opts.context ?? tlsContext(opts),
    requestCert: opts.requestCert === true,
    rejectUnauthorized: opts.requestCert === true && opts.rejectUnauthorized !== false,
    ...(opts.alpn === undefined ? {} : { ALPNProtocols: [...opts.alpn] }),
  });
}

/**
 * Accepts the next connection of `l` as a TLS server: returns at once (the handshake goes on in
 * the background, as Go's tls.Listener does, so a slow client holds up nobody else); the first
 * read or write waits for it and raises its error. {@link tlsHandshake} waits for it explicitly.
 * A client that does not finish within `handshakeTimeoutMs` (default 10 s) is dropped.
 *
 * @example
 * ```ts
 * const context = tlsContext({ cert, key });
 * const s = await acceptTLS(listener, { context });
 * await tlsHandshake(s);
 * ```
 */
export async function acceptTLS(
  l: StreamListener,
  opts: TLSOptions,
  w?: Wait,
  handshakeTimeoutMs = TLS_HANDSHAKE_TIMEOUT_MS,
): Promise<StreamSocket> {
  const a = await l.acceptNode(w);
  const t = serverSocket(a.sock, opts);
  holdEndUntilSecure(t);
  const s = new StreamSocket(t, a.fd, a.unix, a.remote);
  const address = formatEndpoint(s.remoteEndpoint());
  const sp = tracing() ? span(a.fd, "do_handshake", []) : undefined;
  const ready = new Promise<TLSInfo>((resolve, reject) => {
    const timer = setTimeout(() => {
      const err = makeOSError("ETIMEDOUT", {
        op: "do_handshake",
        address,
        hint: `the client did not finish the TLS handshake within ${handshakeTimeoutMs / 1000} s (does it speak TLS?)`,
      });
      t.destroy(err);
    }, handshakeTimeoutMs);
    timer.unref();
    t.once("secure", () => {
      clearTimeout(timer);
      const info = describe(t);
      sp?.ok(sym(`${info.protocol} ${info.cipher}`));
      resolve(info);
    });
    t.once("close", () => {
      clearTimeout(timer);
      const e =
        t.errored !== null
          ? handshakeError(t.errored, address)
          : new SSLEOFError({
              op: "do_handshake",
              address,
              hint: "the client closed the connection during the TLS handshake (it may not trust our certificate, or not speak TLS)",
            });
      sp?.fail(e);
      reject(e);
    });
  });
  ready.catch(() => undefined); // heard by whoever asks; the socket's own calls raise it too
  STATE.set(s, { sock: t, ready });
  return s;
}

/**
 * A half-close (or close) before the handshake has finished would end the TLS session before it
 * began: `end()` waits for 'secure' (a failed handshake closes the socket anyway), unless the
 * client already ended (it rejected our certificate, or left): then the socket is destroyed.
 */
function holdEndUntilSecure(t: tls.TLSSocket): void {
  const end = t.end.bind(t) as (...args: unknown[]) => tls.TLSSocket;
  let secure = false;
  t.once("secure", () => (secure = true));
  t.end = ((...args: unknown[]) => {
    if (secure || t.destroyed) return end(...args);
    // the client ended before the handshake finished: it never will; nothing to wait for
    if (t.readableEnded) return t.destroy();
    t.once("secure", () => end(...args));
    t.once("end", () => {
      if (!secure) t.destroy();
    });
    return t;
  }) as typeof t.end;
}

/** Waits for the handshake of `t`, then wraps it; on failure everything is released. */
function finish(
  t: tls.TLSSocket,
  h: { fd: number; unix: UnixNames | undefined; remote: Endpoint | undefined },
  event: "secure" | "secureConnect",
  w: Wait | undefined,
): Promise<StreamSocket> {
  const address = formatEndpoint(h.remote);
  const sp = tracing() ? span(h.fd, "do_handshake", []) : undefined;
  return new Promise<StreamSocket>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const done = (err: OSError | undefined) => {
      if (timer !== undefined) clearTimeout(timer);
      w?.signal?.removeEventListener("abort", onAbort);
      t.off("error", onError);
      t.off(event, onSecure);
      t.off("close", onClose);
      if (err !== undefined) {
        t.destroy();
        releaseFd(h.fd);
        sp?.fail(err);
        reject(err);
        return;
      }
      const info = describe(t);
      sp?.ok(sym(`${info.protocol} ${info.cipher}`));
      const s = new StreamSocket(t, h.fd, h.unix, h.remote);
      const st: TLSState = { sock: t, ready: Promise.resolve(info) };
      // TLS 1.3 tickets come after the handshake: keep the latest for tlsSession()
      if (event === "secureConnect") t.on("session", (b: Buffer) => (st.session = b));
      STATE.set(s, st);
      resolve(s);
    };
    const onError = (e: Error) => done(handshakeError(e, address));
    const onSecure = () => done(undefined);
    const onClose = () =>
      done(
        handshakeError(
          Object.assign(
            new Error("Client network socket disconnected before secure TLS connection was established"),
            { code: "ECONNRESET" },
          ),
          address,
        ),
      );
    const onAbort = () =>
      done(
        makeOSError("EINTR", {
          op: "do_handshake",
          address,
          cause: w?.signal?.reason,
          hint: "the handshake was aborted by its AbortSignal",
        }),
      );
    t.once("error", onError);
    t.once(event, onSecure);
    t.once("close", onClose);
    if (w?.signal?.aborted === true) return onAbort();
    w?.signal?.addEventListener("abort", onAbort, { once: true });
    if (w?.timeout !== undefined) {
      const ms = w.timeout;
      timer = setTimeout(
        () =>
          done(
            makeOSError("ETIMEDOUT", {
              op: "do_handshake",
              address,
              hint: `the TLS handshake did not finish within ${ms / 1000} s`,
            }),
          ),
        ms,
      );
    }
  });
}

function nameText(n: unknown): string {
  if (n === null || typeof n !== "object") return "";
  return Object.entries(n as Record<string, string | string[]>)
    .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join("+") : v}`)
    .join(", ");
}

/** The secret bits of a cipher suite, from its name (Node does not report them). */
function secretBits(name: string): number {
  if (/CHACHA20|AES_?256|AES256/.test(name)) return 256;
  if (/AES_?128|AES128/.test(name)) return 128;
  return 0;
}

function describe(t: tls.TLSSocket): TLSInfo {
  const cipher = t.getCipher();
  const chain: PeerCertificate[] = [];
  let c = t.getPeerCertificate(true) as tls.DetailedPeerCertificate | undefined;
  const seen = new Set<string>();
  while (c !== undefined && c !== null && c.raw !== undefined && !seen.has(c.fingerprint256)) {
    seen.add(c.fingerprint256);
    chain.push({
      subject: nameText(c.subject),
      issuer: nameText(c.issuer),
      validFrom: new Date(c.valid_from),
      validTo: new Date(c.valid_to),
      subjectAltNames: c.subjectaltname ? c.subjectaltname.split(", ") : [],
      fingerprint256: c.fingerprint256,
      serialNumber: c.serialNumber,
      raw: c.raw,
    });
    c = c.issuerCertificate;
  }
  return {
    protocol: t.getProtocol() ?? "unknown",
    cipher: cipher.standardName ?? cipher.name,
    bits: secretBits(cipher.standardName ?? cipher.name),
    alpn: typeof t.alpnProtocol === "string" ? t.alpnProtocol : undefined,
    authorized: t.authorized,
    verifyError: t.authorizationError == null ? undefined : String(t.authorizationError),
    resumed: t.isSessionReused(),
    chain,
  };
}

/**
 * The TLS facts of a connection made by this module, or undefined for a plain one. For a
 * connection from {@link acceptTLS} whose handshake has not finished, undefined as well (use
 * {@link tlsHandshake}).
 *
 * @example `const info = tlsInfo(s); if (info) console.log(info.protocol, info.cipher);`
 */
export function tlsInfo(s: StreamSocket): TLSInfo | undefined {
  const st = STATE.get(s);
  if (st === undefined || !st.sock.encrypted || st.sock.getProtocol() === null) return undefined;
  return describe(st.sock);
}

/**
 * Waits for the handshake of a TLS connection (at once for one that has finished); rejects its
 * error (an SSLError) for one that failed. EINVAL for a plain connection.
 *
 * @example `const info = await tlsHandshake(s); // { protocol: "TLSv1.3", … }`
 */
export function tlsHandshake(s: StreamSocket): Promise<TLSInfo> {
  const st = STATE.get(s);
  if (st === undefined) {
    return Promise.reject(
      makeOSError("EINVAL", { op: "do_handshake", hint: "this connection does not use TLS" }),
    );
  }
  return st.ready;
}

/**
 * The session of a TLS client connection, to resume on another connection to the same server
 * (the `session` option): the latest ticket the server sent, or undefined (plain, or none yet).
 *
 * @example `const data = await startTLS(plain, { ...opts, session: tlsSession(control) });`
 */
export function tlsSession(s: StreamSocket): Buffer | undefined {
  const st = STATE.get(s);
  if (st === undefined) return undefined;
  return st.session ?? st.sock.getSession();
}

/** True when `s` is a TLS connection. @example `if (isTLS(s)) …` */
export function isTLS(s: StreamSocket): boolean {
  return STATE.has(s);
}
