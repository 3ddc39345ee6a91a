/**
 * `dial`: connect, Go style.
 *
 * @module
 */

import { resolveHost } from "../addr/resolve.js";
import { connectAny } from "../core/connect.js";
import type { Endpoint } from "../core/endpoint.js";
import { startTLS } from "../core/tls.js";
import { argTypeError, makeOSError, TimeoutError } from "../errors/index.js";
import {
  checkNetwork,
  isPacketNetwork,
  type Network,
  type PacketNetwork,
  resolveNetAddresses,
  type StreamNetwork,
} from "./address.js";
import { Conn } from "./conn.js";
import { checkOptions, optBool, optInt, optNumber, optSignal, optString } from "./options.js";
import { dialPacket, type PacketConn } from "./packet.js";
import { checkTLSOptions, type TLSOptions } from "./tls.js";

/** The host part of "host:port" / "[v6]:port" (the name TLS checks by default). */
function hostOf(address: string): string | undefined {
  const m = /^\[([^\]]+)\]:\w+$/.exec(address) ?? /^([^:]*):\w+$/.exec(address);
  return m?.[1] === undefined || m[1] === "" ? undefined : m[1];
}

/**
 * Options of {@link dial}.
 *
 * @example
 * ```ts
 * const opts: DialOptions = { timeout: 2000, localAddress: "127.0.0.1", keepAlive: true };
 * const conn = await dial("tcp", "127.0.0.1:8080", opts);
 * ```
 */
export interface DialOptions {
  /** Give up connecting after this many ms (TimeoutError). */
  readonly timeout?: number;
  /** Abort connecting (InterruptedError). */
  readonly signal?: AbortSignal;
  /** Local address (IP or name) to connect from. */
  readonly localAddress?: string;
  /** Local port to connect from (default: any). */
  readonly localPort?: number;
  /** SO_KEEPALIVE from the start. */
  readonly keepAlive?: boolean;
  /** TCP_NODELAY from the start (Go's default is true; so is sockit's). */
  readonly noDelay?: boolean;
  /**
   * Speak TLS (Go's tls.Dial): `{}` for the defaults — the certificate verified against the
   * root CAs plus `ca`, the host name checked, TLS 1.2 or newer. The handshake is part of the
   * dial (and of its timeout); a certificate that does not verify rejects
   * SSLCertVerificationError. Stream networks only.
   */
  readonly tls?: TLSOptions;
}

/**
 * Connects to `address` on `network` ("tcp", "tcp4", "tcp6", "unix"; "udp", "udp4", "udp6"
 * give a {@link PacketConn} whose peer is fixed). A name with several addresses is raced as
 * RFC 8305 says (IPv6 first, the next address after 250 ms or a failure, the loser cancelled);
 * when all fail, one error names every address tried. `timeout` bounds the whole attempt.
 *
 * Berkeley equivalent: `getaddrinfo(host, port)`, `socket(family, SOCK_STREAM)`,
 * optionally `bind(localAddress)`, then `connect((host, port))`.
 *
 * @example
 * ```ts
 * const conn = await dial("tcp", "localhost:8080", { timeout: 2000 });
 * await conn.write("GET / HTTP/1.0\r\n\r\n");
 * ```
 */
export async function dial(network: StreamNetwork, address: string, opts?: DialOptions): Promise<Conn>;
export async function dial(network: PacketNetwork, address: string, opts?: DialOptions): Promise<PacketConn>;
export async function dial(
  network: Network,
  address: string,
  opts: DialOptions = {},
): Promise<Conn | PacketConn> {
  const o = checkOptions("opts", opts);
  const signal = optSignal(o.signal);
  const local = optString("localAddress", o.localAddress);
  const localPort = optInt("localPort", o.localPort, 0, 65535);
  const timeout = optNumber("timeout", o.timeout, 0, 2 ** 31 - 1);
  const keepAlive = optBool("keepAlive", o.keepAlive) ?? false;
  const noDelay = optBool("noDelay", o.noDelay) ?? true;
  const tls = o.tls === undefined ? undefined : checkTLSOptions(o.tls);
  if (isPacketNetwork(network)) {
    if (tls !== undefined)
      throw argTypeError("tls", "absent for a packet network (DTLS is not supported)", o.tls);
    return dialPacket(network, address, {
      ...(signal ? { signal } : {}),
      ...(local !== undefined ? { localAddress: local } : {}),
      ...(localPort !== undefined ? { localPort } : {}),
    });
  }
  const net = checkNetwork(network);
  // `timeout` bounds the whole attempt: the name's lookup, then every address tried
  const t0 = performance.now();
  const expiry = timeout === undefined ? undefined : AbortSignal.timeout(timeout);
  const lookup =
    expiry !== undefined && signal !== undefined ? AbortSignal.any([signal, expiry]) : (expiry ?? signal);
  let to: Endpoint[];
  try {
    to = await resolveNetAddresses(net, address, "connect", lookup ? { signal: lookup } : {});
  } catch (err) {
    if (expiry?.aborted === true && signal?.aborted !== true) {
      throw new TimeoutError("ETIMEDOUT", {
        op: "connect",
        address,
        hint: `looking the name up took longer than the ${timeout} ms timeout; is the resolver reachable?`,
      });
    }
    throw err;
  }
  let localAddress: string | undefined;
  if (local !== undefined && net !== "unix") {
    // the source fixes the family: only addresses of that family can be reached from it
    const families = new Set(to.map((e) => ("family" in e ? e.family : 0)));
    const only = families.size === 1 ? [...families][0] : 0;
    const wanted = only === 6 ? 10 : only === 4 ? 2 : 0;
    const src = await resolveHost(local, wanted);
    localAddress = src.address;
    const same = to.filter((e) => "family" in e && e.family === src.family);
    if (same.length === 0) {
      throw makeOSError("EAFNOSUPPORT", {
        op: "connect",
        address,
        hint: `the local address ${src.address} is IPv${src.family}; ${address} has no IPv${src.family} address`,
      });
    }
    to = same;
  }
  const s = await connectAny(to, {
    timeout: timeout === undefined ? undefined : Math.max(1, timeout - (performance.now() - t0)),
    signal,
    localAddress,
    localPort,
    keepAlive,
    noDelay,
    target: address,
  });
  if (tls === undefined) return new Conn(s);
  const left = timeout === undefined ? undefined : Math.max(1, timeout - (performance.now() - t0));
  const w = { ...(left === undefined ? {} : { timeout: left }), ...(signal === undefined ? {} : { signal }) };
  return new Conn(await startTLS(s, tls, w, hostOf(address)));
}
