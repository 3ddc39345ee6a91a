/**
 * What the Berkeley `Socket` delegates to: a stream half (stream-half.ts) or a datagram half
 * (dgram.ts), each with its own state table (states.ts). The socket checks arguments, keeps the
 * timeout and the descriptor, and hands every call to its half.
 *
 * @module
 */
import type { SockAddr } from "../addr/address.js";
import type { AF_UNSPEC } from "../addr/constants.js";
import type { Endpoint } from "../core/endpoint.js";
import type { StreamSocket } from "../core/stream.js";
import type { Wait } from "../core/wait.js";
import type { OptValue } from "./dgram-options.js";
import type { SocketState } from "./states.js";

/**
 * What a half needs from its socket.
 * @example `const w = host._wait(MSG_DONTWAIT) // { nonblocking: true }`
 */
export interface SocketHost {
  /** AF_INET, AF_INET6 or AF_UNIX. */
  readonly family: number;
  /** SOCK_STREAM or SOCK_DGRAM. */
  readonly type: number;
  /** The protocol number given to socket(). */
  readonly proto: number;
  /** The descriptor number. */
  readonly _fd: number;
  /** The timeout in seconds: null blocks, 0 is non-blocking. */
  _timeout(): number | null;
  /** The wait for one call under the timeout (`flags`: MSG_DONTWAIT makes it non-blocking). */
  _wait(flags?: number): Wait | undefined;
  /** Readiness may have changed (select() and poll() listen). */
  _notify(): void;
}

/**
 * What {@link Socket.readiness} reports.
 * @example `const r: Readiness = sock.readiness(); if (r.hangup) console.log("both directions shut")`
 */
export interface Readiness {
  /** A recv/accept would not wait (POLLIN). */
  readonly readable: boolean;
  /** A send would not wait (POLLOUT). */
  readonly writable: boolean;
  /** An error is pending (POLLERR). */
  readonly error: boolean;
  /** Both directions are shut, or the connection was reset (POLLHUP). */
  readonly hangup?: boolean;
  /** The read direction is shut: the peer's FIN, or SHUT_RD (POLLRDHUP). */
  readonly rdhup?: boolean;
}

/**
 * One half of a socket: every call after the socket checked its arguments. Calls refused in the
 * current state reject (or throw, for the synchronous ones) the OSError of its state table.
 * @example `const half: Half = type === SOCK_DGRAM ? new DatagramHalf(host) : new StreamHalf(host)`
 */
export interface Half {
  /** The current state (see states.ts). */
  readonly state: SocketState;
  /** `Socket.bind`. */
  bind(address: SockAddr): Promise<void>;
  /** `Socket.listen` (the backlog already checked). */
  listen(backlog: number | undefined): Promise<void>;
  /** `Socket.accept`: the core connection, which the socket wraps. */
  accept(): Promise<StreamSocket>;
  /** `Socket.connect`. */
  connect(address: SockAddr | typeof AF_UNSPEC): Promise<void>;
  /** `Socket.recv`; `op` names the call in errors. */
  recv(n: number, flags: number, op: string): Promise<Buffer>;
  /** `Socket.recvfrom`. */
  recvfrom(n: number, flags: number): Promise<[Buffer, SockAddr | null]>;
  /** `Socket.recv_into`. */
  recvInto(buffer: Uint8Array, n: number, flags: number): Promise<number>;
  /** `Socket.recv_exactly`. */
  recvExactly(n: number): Promise<Buffer>;
  /** `Socket.readline`. */
  readline(max: number): Promise<Buffer>;
  /** `Socket.send` and `sendall` (`op`). */
  send(buf: Uint8Array, flags: number, op: string): Promise<number>;
  /** `Socket.sendto`. */
  sendto(buf: Uint8Array, flags: number, to: unknown): Promise<number>;
  /** `Socket.shutdown` (`how` already checked). */
  shutdown(how: number): void;
  /** Moves to "closed" at once, then releases what the half holds. */
  close(): Promise<void>;
  /** `await using`: lets queued sends reach the kernel (bounded), then closes. */
  dispose(): Promise<void>;
  /** The local endpoint, if bound. */
  localEndpoint(): Endpoint | undefined;
  /** The peer's endpoint, if connected. */
  peerEndpoint(): Endpoint | undefined;
  /** `Socket.getpeername`. */
  getpeername(): SockAddr;
  /** `Socket.setsockopt` (level and name already checked). */
  setsockopt(level: number, optname: number, value: OptValue): void;
  /** `Socket.getsockopt`. */
  getsockopt(level: number, optname: number, buflen: number | undefined): number | Buffer;
  /** `Socket.readiness` on an open socket. */
  readiness(): Readiness;
  /** The core object whose readiness changes select() must hear about (may make it). */
  watchTarget(): { watch(cb: () => void): () => void } | undefined;
}
