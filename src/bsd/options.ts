/**
 * Socket options for stream sockets: what Node 20 can apply is applied, what it can only remember
 * is stored (and documented as such), what it cannot do at all fails with a clear OSError.
 *
 * | option | effect |
 * |---|---|
 * | SO_REUSEADDR | stored; Node always sets it on TCP listeners |
 * | SO_KEEPALIVE, TCP_NODELAY | applied to the connection (now or when it connects) |
 * | IPV6_V6ONLY | applied at bind() (AF_INET6 only) |
 * | SO_RCVBUF | bounds sockit's receive buffer per socket (the kernel's is Node's) |
 * | SO_SNDBUF | stored only (Node's write buffer mark is fixed) |
 * | SO_TYPE, SO_ERROR, SO_ACCEPTCONN, SO_DOMAIN, SO_PROTOCOL | read-only |
 * | SO_REUSEPORT, SO_LINGER, TCP_MAXSEG, SO_BROADCAST… | OSError ENOPROTOOPT saying Node 20 cannot |
 *
 * @module
 */
import { AF_INET6, IPPROTO_IPV6, IPPROTO_TCP } from "../addr/constants.js";
import type { StreamSocket } from "../core/stream.js";
import { argTypeError, makeOSError } from "../errors/index.js";
import { RECV_HIGH_WATER, RECV_HIGH_WATER_MIN } from "../limits.js";
import {
  IPV6_V6ONLY,
  optionName,
  SO_ACCEPTCONN,
  SO_DOMAIN,
  SO_ERROR,
  SO_KEEPALIVE,
  SO_PROTOCOL,
  SO_RCVBUF,
  SO_REUSEADDR,
  SO_SNDBUF,
  SO_TYPE,
  SOL_SOCKET,
  TCP_NODELAY,
} from "./constants.js";

/** What the options need to know about their socket. */
export interface OptionOwner {
  readonly family: number;
  readonly type: number;
  readonly proto: number;
  readonly state: string;
  readonly stream: StreamSocket | undefined;
  takeConnectError(): { errno: number } | undefined;
}

/**
 * The options of one socket.
 * @example `opts.set(SOL_SOCKET, SO_KEEPALIVE, 1)`
 */
export class SocketOptions {
  readonly #owner: OptionOwner;
  reuseaddr = 0;
  keepalive = false;
  nodelay = false;
  v6only = false;
  rcvbuf = RECV_HIGH_WATER;
  sndbuf = 16 * 1024;
  #errorCleared = false;

  constructor(owner: OptionOwner) {
    this.#owner = owner;
  }

  /** Sets one option; see the table in this module's doc. */
  set(level: number, optname: number, value: number | boolean | Uint8Array): void {
    const v = toInt(value, optname);
    const name = optionName(level, optname);
    const stream = this.#owner.stream;
    if (level === SOL_SOCKET) {
      switch (optname) {
        case SO_REUSEADDR:
          this.reuseaddr = v ? 1 : 0;
          return;
        case SO_KEEPALIVE:
          this.keepalive = v !== 0;
          stream?.setKeepAlive(this.keepalive);
          return;
        case SO_RCVBUF:
          this.rcvbuf = Math.max(RECV_HIGH_WATER_MIN, v);
          if (stream) stream.receiveBufferSize = this.rcvbuf;
          return;
        case SO_SNDBUF:
          this.sndbuf = Math.max(RECV_HIGH_WATER_MIN, v);
          return;
        case SO_TYPE:
        case SO_ERROR:
        case SO_ACCEPTCONN:
        case SO_DOMAIN:
        case SO_PROTOCOL:
          throw makeOSError("ENOPROTOOPT", { op: "setsockopt", hint: `${name} is read-only` });
      }
    } else if (level === IPPROTO_TCP && optname === TCP_NODELAY) {
      this.nodelay = v !== 0;
      stream?.setNoDelay(this.nodelay);
      return;
    } else if (level === IPPROTO_IPV6 && optname === IPV6_V6ONLY) {
      if (this.#owner.family !== AF_INET6) {
        throw makeOSError("ENOPROTOOPT", {
          op: "setsockopt",
          hint: "IPV6_V6ONLY applies to AF_INET6 sockets only",
        });
      }
      if (this.#owner.state !== "created") {
        throw makeOSError("EINVAL", { op: "setsockopt", hint: "set IPV6_V6ONLY before bind()" });
      }
      this.v6only = v !== 0;
      return;
    }
    throw makeOSError("ENOPROTOOPT", {
      op: "setsockopt",
      hint: `${name} is not available on a stream socket in Node.js 20 (see docs/api.md, "Gaps")`,
    });
  }

  /** Reads one option; SO_ERROR reads and clears the pending error. */
  get(level: number, optname: number, buflen?: number): number | Buffer {
    const v = this.#get(level, optname);
    if (buflen !== undefined && buflen > 0) {
      const b = Buffer.alloc(Math.min(buflen, 4));
      if (b.length === 4) b.writeInt32LE(v);
      return b;
    }
    return v;
  }

  #get(level: number, optname: number): number {
    const stream = this.#owner.stream;
    if (level === SOL_SOCKET) {
      switch (optname) {
        case SO_REUSEADDR:
          return this.reuseaddr;
        case SO_KEEPALIVE:
          return this.keepalive ? 1 : 0;
        case SO_RCVBUF:
          return this.rcvbuf;
        case SO_SNDBUF:
          return this.sndbuf;
        case SO_TYPE:
          return this.#owner.type;
        case SO_DOMAIN:
          return this.#owner.family;
        case SO_PROTOCOL:
          return this.#owner.proto === 0 && this.#owner.family !== 1 ? IPPROTO_TCP : this.#owner.proto;
        case SO_ACCEPTCONN:
          return this.#owner.state === "listening" ? 1 : 0;
        case SO_ERROR: {
          const connectError = this.#owner.takeConnectError();
          if (connectError !== undefined) return connectError.errno;
          if (this.#errorCleared) return 0;
          const e = stream?.pendingError("getsockopt");
          if (e === undefined) return 0;
          this.#errorCleared = true;
          return e.errno;
        }
      }
    } else if (level === IPPROTO_TCP && optname === TCP_NODELAY) {
      return this.nodelay ? 1 : 0;
    } else if (level === IPPROTO_IPV6 && optname === IPV6_V6ONLY && this.#owner.family === AF_INET6) {
      return this.v6only ? 1 : 0;
    }
    throw makeOSError("ENOPROTOOPT", {
      op: "getsockopt",
      hint: `${optionName(level, optname)} is not available on a stream socket in Node.js 20`,
    });
  }

  /** Applies the stored options to a socket that has just connected. */
  apply(stream: StreamSocket): void {
    if (this.nodelay) stream.setNoDelay(true);
    if (this.keepalive) stream.setKeepAlive(true);
    if (this.rcvbuf !== RECV_HIGH_WATER) stream.receiveBufferSize = this.rcvbuf;
  }

  /** An accepted socket inherits the listener's options, as on Linux. */
  inherit(conn: { setsockopt(level: number, optname: number, value: number): void }): void {
    if (this.nodelay) conn.setsockopt(IPPROTO_TCP, TCP_NODELAY, 1);
    if (this.keepalive) conn.setsockopt(SOL_SOCKET, SO_KEEPALIVE, 1);
    if (this.rcvbuf !== RECV_HIGH_WATER) conn.setsockopt(SOL_SOCKET, SO_RCVBUF, this.rcvbuf);
  }
}

function toInt(value: number | boolean | Uint8Array, optname: number): number {
  if (typeof value === "boolean") return value ? 1 : 0;
  if (typeof value === "number" && Number.isInteger(value)) return value;
  if (value instanceof Uint8Array && value.length >= 4)
    return Buffer.from(value.buffer, value.byteOffset, 4).readInt32LE(0);
  throw argTypeError("value", `an integer, boolean or 4-byte buffer for option ${optname}`, value);
}
