/**
 * UDP on the command line: a UDP socket as a {@link SpliceEnd} (each read one datagram, each
 * write one datagram of at most the family's payload limit), and the one UDP session that
 * `connect -u` and `listen -u` run: stdin → datagrams, datagrams → stdout. `relay`'s `udp:` and
 * `udp-listen:` addresses use the same ends.
 *
 * @module
 */
import { MAX_UDP4_PAYLOAD, MAX_UDP6_PAYLOAD } from "../../limits.js";
import type { IpEndpoint, Packet, PacketConn } from "../../net/index.js";
import type { Context } from "../context.js";
import { crlf } from "../pump.js";
import { type SpliceEvents, type SpliceOptions, splice, type SpliceEnd } from "./splice.js";
import { idleError, stdioEnd } from "./stdio.js";
import type { StdinReader } from "./stdin.js";

/**
 * How {@link packetEnd} picks its peer.
 * @example `packetEnd(pc, pc.localAddress, false, { admit: (p) => p.endpoint.port !== 53, waitForPeer: true })`
 */
export interface PacketEndOptions {
  /**
   * Unconnected sockets (listening): the datagram that was already read (it is the first read),
   * and who sent it.
   */
  readonly first?: { readonly data: Buffer; readonly from: IpEndpoint } | undefined;
  /** Unconnected sockets: decides per datagram whether it is heard (false: dropped). */
  readonly admit?: ((p: Packet) => boolean) | undefined;
  /** Unconnected sockets: writes wait until a datagram was heard (instead of being dropped). */
  readonly waitForPeer?: boolean | undefined;
}

/**
 * The largest datagram payload for the socket's family (65507 bytes over IPv4, 65527 over IPv6).
 * @example `maxPayload(pc) // 65507`
 */
export function maxPayload(pc: PacketConn): number {
  return pc.localEndpoint?.family === 6 ? MAX_UDP6_PAYLOAD : MAX_UDP4_PAYLOAD;
}

/**
 * A UDP socket as a splice end. Connected (dialed): reads what the peer sends, writes to it.
 * Unconnected (listening, `connected: false`): reads from anyone `admit` lets through; writes go
 * to the last sender heard (dropped before there is one, unless `waitForPeer`).
 *
 * @example
 * ```ts
 * const pc = await listenPacket("udp", "127.0.0.1:0");
 * const end = packetEnd(pc, pc.localAddress, false, { waitForPeer: true });
 * ```
 */
export function packetEnd(
  pc: PacketConn,
  label: string,
  connected: boolean,
  opts: PacketEndOptions = {},
): SpliceEnd {
  let peer = opts.first?.from;
  let pending = opts.first?.data;
  let heard: (() => void) | undefined;
  const known = new Promise<void>((resolve) => {
    if (peer !== undefined) resolve();
    else heard = resolve;
  });
  return {
    label,
    abortResets: false,
    datagram: true,
    maxWrite: maxPayload(pc),
    read: async () => {
      if (pending !== undefined) {
        const b = pending;
        pending = undefined;
        return b;
      }
      if (connected) return pc.read();
      for (;;) {
        const p = await pc.readFrom();
        if (opts.admit !== undefined && !opts.admit(p)) continue;
        peer = p.endpoint;
        heard?.();
        return p.data;
      }
    },
    write: async (b) => {
      if (connected) await pc.write(b);
      else if (peer !== undefined) await pc.writeTo(b, peer);
    },
    closeWrite: async () => {},
    close: async () => {
      await pc.close();
    },
    abort: () => void pc.close(),
    ...(!connected && opts.waitForPeer ? { ready: () => known } : {}),
  };
}

/**
 * Options of {@link runUdpSession}.
 * @example `const o: UdpSessionOptions = { what: "127.0.0.1:7", lingerMs: 1000, crlf: true }`
 */
export interface UdpSessionOptions {
  /** `--crlf`: LF → CRLF toward the network. */
  readonly crlf?: boolean | undefined;
  /** `-i`: give up (TimeoutError, exit 4) after this many ms without data either way. */
  readonly idleMs?: number | undefined;
  /** `-q`: after stdin EOF, end after this many ms. */
  readonly lingerMs?: number | undefined;
  /** `-w`: after stdin EOF, end once no datagram came for this many ms. */
  readonly finalReadMs?: number | undefined;
  /** Ends the session quietly. */
  readonly signal?: AbortSignal | undefined;
  /** Names the session in the `-i` error (the peer, or the bound address). */
  readonly what: string;
  /** More notices (e.g. at stdin EOF). */
  readonly events?: SpliceEvents | undefined;
}

/**
 * stdin ↔ a UDP socket: each stdin read is sent as one datagram (longer reads are split at the
 * payload limit), each datagram received goes to stdout. UDP has no EOF: after stdin EOF the
 * session goes on until `-q`/`-w` end it, the signal stops it, or stdout goes away. Closes the
 * socket (warning about datagrams the full receive queue dropped); rejects on a socket error or
 * the idle timeout.
 *
 * @example `await runUdpSession(stdin, pc, packetEnd(pc, pc.remoteAddress!, true), ctx, { what: "127.0.0.1:7", lingerMs: 1000 })`
 */
export async function runUdpSession(
  stdin: StdinReader,
  pc: PacketConn,
  end: SpliceEnd,
  ctx: Context,
  opts: UdpSessionOptions,
): Promise<void> {
  const spliceOpts: SpliceOptions = {
    directions: [
      { transform: opts.crlf ? crlf() : undefined, halfClose: false, endAfterMs: opts.lingerMs },
      { halfClose: false, silenceMs: opts.finalReadMs },
    ],
    idleMs: opts.idleMs,
    idleError: () => idleError(opts.idleMs!, opts.what),
    signal: opts.signal,
    dump: ctx.dumper(),
    failure: "close",
    events: opts.events,
  };
  try {
    const r = await splice(stdioEnd(stdin, ctx), end, spliceOpts);
    if (r.status === "failed") throw r.error;
  } finally {
    if (pc.drops > 0) ctx.warn(`${pc.drops} datagrams dropped: the receive queue was full`);
    await pc.close();
  }
}
