/**
 * TLS in the Berkeley face, named as Python's `ssl` module: {@link create_default_context},
 * {@link SSLContext} and its `wrap_socket`, {@link SSLSocket}. The calls that wait return
 * Promises (`await ctx.wrap_socket(s, …)`); everything else reads as in Python.
 *
 * Secure by default, as Python's `create_default_context()`: CERT_REQUIRED, check_hostname,
 * TLS 1.2 minimum, Node's root CAs (plus `load_verify_locations`).
 *
 * @module
 */
import * as fs from "node:fs";
import type { StreamSocket } from "../core/stream.js";
import {
  type PeerCertificate,
  startServerTLS,
  startTLS,
  tlsContext,
  tlsHandshake,
  tlsInfo,
  type TLSOptions,
  type TLSVersion as TLSVersionName,
} from "../core/tls.js";
import { argTypeError, makeOSError, toSocketError } from "../errors/index.js";
import { type Family, type SockAddrOf, type SockType } from "./sockaddr.js";
import { Socket } from "./socket.js";

/** Python's `ssl.CERT_NONE`: the peer's certificate is not verified. @example `ctx.verify_mode = CERT_NONE` */
export const CERT_NONE = 0;
/** Python's `ssl.CERT_OPTIONAL` (treated as CERT_REQUIRED when the peer sends one). @example `ctx.verify_mode = CERT_OPTIONAL` */
export const CERT_OPTIONAL = 1;
/** Python's `ssl.CERT_REQUIRED`: the peer's certificate must verify. @example `ctx.verify_mode = CERT_REQUIRED` */
export const CERT_REQUIRED = 2;

/** Python's `ssl.TLSVersion`: the values of `minimum_version`/`maximum_version`. @example `ctx.minimum_version = TLSVersion.TLSv1_3` */
export const TLSVersion = {
  TLSv1: "TLSv1",
  TLSv1_1: "TLSv1.1",
  TLSv1_2: "TLSv1.2",
  TLSv1_3: "TLSv1.3",
} as const;

/** Python's `ssl.Purpose`. @example `create_default_context(Purpose.CLIENT_AUTH)` */
export const Purpose = { SERVER_AUTH: "SERVER_AUTH", CLIENT_AUTH: "CLIENT_AUTH" } as const;

/** Options of {@link SSLContext.wrap_socket}. @example `{ server_hostname: "localhost" }` */
export interface WrapOptions {
  /** Take the server's side. */
  readonly server_side?: boolean;
  /** The name sent as SNI and checked against the certificate (client). */
  readonly server_hostname?: string;
}

function readPem(what: string, file: string): string {
  try {
    return fs.readFileSync(file, "utf8");
  } catch (err) {
    throw toSocketError(err, { op: what, address: file });
  }
}

/**
 * Python's `ssl.SSLContext`: settings shared by many connections.
 *
 * @example
 * ```ts
 * const ctx = new SSLContext(PROTOCOL_TLS_SERVER);
 * ctx.load_cert_chain("cert.pem", "key.pem");
 * ```
 */
export class SSLContext {
  /** Check the host name against the certificate (client). */
  check_hostname: boolean;
  /** CERT_NONE, CERT_OPTIONAL or CERT_REQUIRED. */
  verify_mode: number;
  /** Lowest TLS version (default TLSv1.2). */
  minimum_version: TLSVersionName = "TLSv1.2";
  /** Highest TLS version (default TLSv1.3). */
  maximum_version: TLSVersionName = "TLSv1.3";
  /** True for a server context (PROTOCOL_TLS_SERVER). */
  readonly server: boolean;
  #cert: string | undefined;
  #key: string | undefined;
  #ca: string[] = [];
  #alpn: string[] | undefined;

  /** `protocol`: PROTOCOL_TLS_CLIENT (default; verifies) or PROTOCOL_TLS_SERVER. */
  constructor(protocol: number = PROTOCOL_TLS_CLIENT) {
    this.server = protocol === PROTOCOL_TLS_SERVER;
    this.check_hostname = !this.server;
    this.verify_mode = this.server ? CERT_NONE : CERT_REQUIRED;
  }

  /** Our certificate chain and key (PEM files; the key may be in `certfile`). */
  load_cert_chain(certfile: string, keyfile?: string): void {
    if (typeof certfile !== "string") throw argTypeError("certfile", "a path", certfile);
    this.#cert = readPem("load_cert_chain", certfile);
    this.#key = keyfile === undefined ? this.#cert : readPem("load_cert_chain", keyfile);
    tlsContext(this.#options()); // a bad file or a key that does not match fails here, as in Python
  }

  /** Trust the CA certificates in `cafile` (PEM), or `cadata` (PEM text). */
  load_verify_locations(cafile?: string, _capath?: string, cadata?: string): void {
    if (cafile !== undefined) this.#ca.push(readPem("load_verify_locations", cafile));
    if (cadata !== undefined) this.#ca.push(cadata);
  }

  /** The ALPN protocols to offer or accept, in order of preference. */
  set_alpn_protocols(protocols: readonly string[]): void {
    if (!Array.isArray(protocols) || !protocols.every((p) => typeof p === "string"))
      throw argTypeError("protocols", "an array of strings", protocols);
    this.#alpn = [...protocols];
  }

  #options(): TLSOptions {
    return {
      ...(this.#cert === undefined ? {} : { cert: this.#cert }),
      ...(this.#key === undefined ? {} : { key: this.#key }),
      ...(this.#ca.length === 0 ? {} : { ca: this.#ca }),
      ...(this.#alpn === undefined ? {} : { alpn: this.#alpn }),
      minVersion: this.minimum_version,
      maxVersion: this.maximum_version,
      rejectUnauthorized: this.verify_mode !== CERT_NONE,
      checkHostname: this.check_hostname,
      requestCert: this.server && this.verify_mode !== CERT_NONE,
    };
  }

  /**
   * Wraps a connected socket (the client's or an accepted one) and does the handshake, or a
   * listening socket (`server_side`: each accept() then returns an SSLSocket). The socket passed
   * in must not be used again. Rejects SSLCertVerificationError / SSLError as Python does.
   */
  async wrap_socket<F extends number, T extends number>(
    sock: Socket<F, T>,
    opts: WrapOptions = {},
  ): Promise<SSLSocket<F, T>> {
    if (!(sock instanceof Socket)) throw argTypeError("sock", "a socket", sock);
    const server = opts.server_side === true;
    if (this.check_hostname && this.verify_mode === CERT_NONE)
      throw makeOSError("EINVAL", {
        op: "wrap_socket",
        hint: "check_hostname needs verify_mode CERT_REQUIRED",
      });
    const options = {
      ...this.#options(),
      ...(opts.server_hostname === undefined ? {} : { serverName: opts.server_hostname }),
    };
    if (sock.state === "listening") {
      if (!server)
        throw makeOSError("EINVAL", {
          op: "wrap_socket",
          hint: "a listening socket needs server_side: true",
        });
      return new SSLSocket(sock.family, sock.type, sock.proto, undefined, this, sock);
    }
    const stream = sock.stream;
    if (stream === undefined)
      throw makeOSError("ENOTCONN", {
        op: "wrap_socket",
        hint: "connect() the socket (or accept() it) first",
      });
    if (server && this.#cert === undefined)
      throw makeOSError("EINVAL", {
        op: "wrap_socket",
        hint: "a server needs load_cert_chain(certfile, keyfile) first",
      });
    const w = sock._wait();
    const secure = server ? await startServerTLS(stream, options, w) : await startTLS(stream, options, w);
    return new SSLSocket(sock.family, sock.type, sock.proto, secure, this);
  }
}

/** Python's `ssl.PROTOCOL_TLS_CLIENT`. @example `new SSLContext(PROTOCOL_TLS_CLIENT)` */
export const PROTOCOL_TLS_CLIENT = 16;
/** Python's `ssl.PROTOCOL_TLS_SERVER`. @example `new SSLContext(PROTOCOL_TLS_SERVER)` */
export const PROTOCOL_TLS_SERVER = 17;

/**
 * Python's `ssl.create_default_context(purpose)`: for SERVER_AUTH (default) a client context
 * that verifies the server and its host name; for CLIENT_AUTH a server context.
 *
 * @example
 * ```ts
 * const ctx = create_default_context();
 * const s = await ctx.wrap_socket(await create_connection(["localhost", 8443]), { server_hostname: "localhost" });
 * ```
 */
export function create_default_context(
  purpose: string = Purpose.SERVER_AUTH,
  opts: { cafile?: string } = {},
): SSLContext {
  const ctx = new SSLContext(purpose === Purpose.CLIENT_AUTH ? PROTOCOL_TLS_SERVER : PROTOCOL_TLS_CLIENT);
  if (opts.cafile !== undefined) ctx.load_verify_locations(opts.cafile);
  return ctx;
}

/** Python's `getpeercert()` dictionary, as far as it carries over. @example `(ss.getpeercert() as PeerCertDict).subjectAltName // [["DNS", "localhost"]]` */
export interface PeerCertDict {
  readonly subject: string;
  readonly issuer: string;
  readonly notBefore: string;
  readonly notAfter: string;
  readonly subjectAltName: ReadonlyArray<readonly [string, string]>;
  readonly serialNumber: string;
}

/**
 * Python's `ssl.SSLSocket`: a socket whose bytes are encrypted; every socket call works on the
 * plain text. Made by {@link SSLContext.wrap_socket}.
 *
 * @example
 * ```ts
 * const ctx = create_default_context();
 * const sock = socket(AF_INET, SOCK_STREAM);
 * await sock.connect(["127.0.0.1", 8443]);
 * const s = await ctx.wrap_socket(sock, { server_hostname: "localhost" });
 * console.log(s.version(), s.cipher()); // "TLSv1.3" ["TLS_AES_256_GCM_SHA384", "TLSv1.3", 256]
 * ```
 */
export class SSLSocket<F extends number = Family, T extends number = SockType> extends Socket<F, T> {
  /** The context it was made with. */
  readonly context: SSLContext;
  readonly #listening: Socket<F, T> | undefined;

  /** Use {@link SSLContext.wrap_socket}. */
  constructor(
    family: F,
    type: T,
    proto: number,
    stream: StreamSocket | undefined,
    context: SSLContext,
    listening?: Socket<F, T>,
  ) {
    super(family, type, proto, stream ?? listening?.stream);
    this.context = context;
    this.#listening = listening;
  }

  #tls(): StreamSocket {
    const s = this.stream;
    if (s === undefined)
      throw makeOSError("ENOTCONN", { op: "do_handshake", hint: "the socket is not connected" });
    return s;
  }

  /** Waits for the handshake (done already by wrap_socket; kept for Python code that calls it). */
  async do_handshake(): Promise<void> {
    await tlsHandshake(this.#tls());
  }

  /** The protocol agreed on: `"TLSv1.3"`; null before the handshake. */
  version(): string | null {
    return tlsInfo(this.#tls())?.protocol ?? null;
  }

  /** `[name, protocol, secret bits]`, as Python's `cipher()`; null before the handshake. */
  cipher(): [string, string, number] | null {
    const i = tlsInfo(this.#tls());
    return i === undefined ? null : [i.cipher, i.protocol, i.bits];
  }

  /** The ALPN protocol agreed on, or null. */
  selected_alpn_protocol(): string | null {
    return tlsInfo(this.#tls())?.alpn ?? null;
  }

  /**
   * The peer's certificate as Python's dictionary (empty when it was not verified, as Python);
   * with `binary_form`, its DER bytes. Null when the peer sent none.
   */
  getpeercert(binary_form = false): PeerCertDict | Buffer | null {
    const i = tlsInfo(this.#tls());
    const c: PeerCertificate | undefined = i?.chain[0];
    if (c === undefined) return null;
    if (binary_form) return c.raw;
    return {
      subject: c.subject,
      issuer: c.issuer,
      notBefore: c.validFrom.toUTCString(),
      notAfter: c.validTo.toUTCString(),
      subjectAltName: c.subjectAltNames.map((n) => {
        const at = n.indexOf(":");
        return [n.slice(0, at), n.slice(at + 1)] as const;
      }),
      serialNumber: c.serialNumber,
    };
  }

  /** Not possible on Node (a TLS session cannot be handed back as plain text): EOPNOTSUPP. */
  async unwrap(): Promise<Socket<F, T>> {
    throw makeOSError("EOPNOTSUPP", {
      op: "unwrap",
      hint: "Node cannot turn a TLS connection back into plain text; close it and connect again",
    });
  }

  /** A listening SSLSocket: accepts and wraps (the handshake is part of accept, as Python's default). */
  override async accept(): Promise<[SSLSocket<F, T>, SockAddrOf<F>]> {
    const from = this.#listening;
    if (from === undefined) return super.accept() as Promise<[SSLSocket<F, T>, SockAddrOf<F>]>;
    const [conn, addr] = await from.accept();
    return [await this.context.wrap_socket(conn, { server_side: true }), addr];
  }

  /** Closes (a listening SSLSocket closes the listening socket it wraps). */
  override async close(): Promise<void> {
    if (this.#listening !== undefined) await this.#listening.close();
    await super.close();
  }
}
