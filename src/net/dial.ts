/**
 * `dial`: connect, Go style.
 *
 * @module
 */

import { resolveHost } from "../addr/resolve.js";
import { connectStream } from "../core/stream.js";
import {
  checkNetwork,
  isPacketNetwork,
  type Network,
  type PacketNetwork,
  resolveNetAddress,
  type StreamNetwork,
} from "./address.js";
import { Conn } from "./conn.js";
import { checkOptions, optBool, optInt, optNumber, optSignal, optString } from "./options.js";
import { dialPacket, type PacketConn } from "./packet.js";

/** Options of {@link dial}. */
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
}

/**
 * Connects to `address` on `network` ("tcp", "tcp4", "tcp6", "unix"; "udp", "udp4", "udp6"
 * give a {@link PacketConn} whose peer is fixed).
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
  if (isPacketNetwork(network)) {
    return dialPacket(network, address, {
      ...(signal ? { signal } : {}),
      ...(local !== undefined ? { localAddress: local } : {}),
      ...(localPort !== undefined ? { localPort } : {}),
    });
  }
  const net = checkNetwork(network);
  const to = await resolveNetAddress(net, address, false, "connect");
  let localAddress: string | undefined;
  if (local !== undefined && net !== "unix") {
    localAddress = (await resolveHost(local, "family" in to && to.family === 6 ? 10 : 2)).address;
  }
  const s = await connectStream(to, { timeout, signal, localAddress, localPort, keepAlive, noDelay });
  return new Conn(s);
}
