/**
 * Options of the datagram half of the Berkeley `Socket`: options that must exist before Node's
 * socket does (SO_REUSEADDR, IPV6_V6ONLY) or after it is bound (SO_BROADCAST, buffer sizes,
 * multicast) are held here and applied at the right moment, so `setsockopt` works in any order,
 * as in C.
 *
 * @module
 */
import { readdirSync, readFileSync } from "node:fs";
import { AF_INET6, IPPROTO_IP, IPPROTO_IPV6, SOCK_DGRAM } from "../addr/constants.js";
import { inet_ntop } from "../addr/inet.js";
import { checkGroup, DatagramSocket } from "../core/datagram.js";
import { argTypeError, makeOSError } from "../errors/index.js";
import {
  IP_ADD_MEMBERSHIP,
  IP_DROP_MEMBERSHIP,
  IP_MULTICAST_IF,
  IP_MULTICAST_LOOP,
  IP_MULTICAST_TTL,
  IP_TTL,
  IPV6_JOIN_GROUP,
  IPV6_LEAVE_GROUP,
  IPV6_V6ONLY,
  optionName,
  SO_BROADCAST,
  SO_DOMAIN,
  SO_ERROR,
  SO_PROTOCOL,
  SO_RCVBUF,
  SO_REUSEADDR,
  SO_SNDBUF,
  SO_TYPE,
  SOL_SOCKET,
} from "./constants.js";

/**
 * A multicast membership in the friendly form (Python's packed `struct ip_mreq` works too), for
 * IP_ADD_MEMBERSHIP/IP_DROP_MEMBERSHIP and IPV6_JOIN_GROUP/IPV6_LEAVE_GROUP.
 *
 * @example
 * ```ts
 * const group: Membership = { group: "239.1.2.3", interface: "127.0.0.1" };
 * const u = socket(AF_INET, SOCK_DGRAM);
 * await u.bind(["0.0.0.0", 5000]);
 * u.setsockopt(IPPROTO_IP, IP_ADD_MEMBERSHIP, group);
 * ```
 */
export interface Membership {
  /** The group address, e.g. "239.1.2.3" or "ff02::1:3". */
  readonly group: string;
  /** The local interface: an IPv4 address ("127.0.0.1") or, for IPv6, an interface name or index. */
  readonly interface?: string | number;
}

/** What setsockopt takes on a datagram socket. */
export type OptValue = number | boolean | Uint8Array | Membership | string;

/**
 * The options of one datagram socket. Options that must exist before Node's socket does
 * (SO_REUSEADDR, IPV6_V6ONLY) are held until the core socket is made; the others are applied
 * to the core socket now, or when it is made (the core itself holds them until it is bound).
 * @example `const o = new DatagramSockOpts(AF_INET); o.set(SOL_SOCKET, SO_BROADCAST, 1, undefined)`
 */
export class DatagramSockOpts {
  readonly #family: number;
  #core: DatagramSocket | undefined;
  /** SO_REUSEADDR, as set. */
  reuseaddr = false;
  /** IPV6_V6ONLY, as set. */
  v6only = false;
  #broadcast = false;
  // options set before the core socket exists (it is made at bind, when SO_REUSEADDR and
  // IPV6_V6ONLY are known)
  #pending: Array<(s: DatagramSocket) => void> = [];
  #stored = new Map<string, number>();

  constructor(family: number) {
    this.#family = family;
  }

  /** The core socket has been made: applies what was set before. */
  attach(core: DatagramSocket): void {
    this.#core = core;
    for (const apply of this.#pending.splice(0)) apply(core);
  }

  /** Applies an option to the core socket now, or when it is made. */
  #apply(fn: (s: DatagramSocket) => void): void {
    if (this.#core) fn(this.#core);
    else this.#pending.push(fn);
  }

  /** setsockopt for datagram sockets. */
  set(level: number, optname: number, value: OptValue): void {
    const name = optionName(level, optname);
    if (level === SOL_SOCKET) {
      switch (optname) {
        case SO_REUSEADDR:
          if (this.#core)
            throw makeOSError("EINVAL", { op: "setsockopt", hint: "set SO_REUSEADDR before bind()" });
          this.reuseaddr = toInt(value, name) !== 0;
          return;
        case SO_BROADCAST: {
          this.#broadcast = toInt(value, name) !== 0;
          const on = this.#broadcast;
          this.#apply((s) => s.setBroadcast(on));
          return;
        }
        case SO_RCVBUF: {
          const n = toInt(value, name);
          this.#stored.set(name, n);
          this.#apply((s) => s.setBufferSize("recv", n));
          return;
        }
        case SO_SNDBUF: {
          const n = toInt(value, name);
          this.#stored.set(name, n);
          this.#apply((s) => s.setBufferSize("send", n));
          return;
        }
      }
    } else if (level === IPPROTO_IP && this.#family !== AF_INET6) {
      switch (optname) {
        case IP_TTL: {
          const n = toInt(value, name);
          this.#stored.set(name, n);
          this.#apply((s) => s.setTTL(n));
          return;
        }
        case IP_MULTICAST_TTL: {
          const n = toInt(value, name);
          this.#stored.set(name, n);
          this.#apply((s) => s.setMulticastTTL(n));
          return;
        }
        case IP_MULTICAST_LOOP: {
          const on = toInt(value, name) !== 0;
          this.#stored.set(name, on ? 1 : 0);
          this.#apply((s) => s.setMulticastLoopback(on));
          return;
        }
        case IP_MULTICAST_IF: {
          const iface = typeof value === "string" ? value : ipv4From(value, name, 0);
          this.#apply((s) => s.setMulticastInterface(iface));
          return;
        }
        case IP_ADD_MEMBERSHIP:
        case IP_DROP_MEMBERSHIP: {
          const m = membership4(value, name);
          const add = optname === IP_ADD_MEMBERSHIP;
          if (add) checkGroup(m.group, name); // at once, even before the socket exists
          this.#apply((s) => s.membership(add, m.group, m.iface));
          return;
        }
      }
    } else if (level === IPPROTO_IPV6 && this.#family === AF_INET6) {
      switch (optname) {
        case IPV6_V6ONLY:
          if (this.#core)
            throw makeOSError("EINVAL", { op: "setsockopt", hint: "set IPV6_V6ONLY before bind()" });
          this.v6only = toInt(value, name) !== 0;
          return;
        case IPV6_JOIN_GROUP:
        case IPV6_LEAVE_GROUP: {
          const m = membership6(value, name);
          const add = optname === IPV6_JOIN_GROUP;
          if (add) checkGroup(m.group, name); // at once, even before the socket exists
          this.#apply((s) => s.membership(add, m.group, m.iface));
          return;
        }
      }
    }
    throw makeOSError("ENOPROTOOPT", {
      op: "setsockopt",
      hint: `${name} is not available on a datagram socket in Node.js 20 (see docs/api.md, "Gaps")`,
    });
  }

  /** getsockopt for datagram sockets. */
  get(level: number, optname: number): number {
    const name = optionName(level, optname);
    if (level === SOL_SOCKET) {
      switch (optname) {
        case SO_REUSEADDR:
          return this.reuseaddr ? 1 : 0;
        case SO_BROADCAST:
          return this.#broadcast ? 1 : 0;
        case SO_TYPE:
          return SOCK_DGRAM;
        case SO_DOMAIN:
          return this.#family;
        case SO_PROTOCOL:
          return 17;
        case SO_ERROR:
          return 0;
        case SO_RCVBUF:
        case SO_SNDBUF:
          return (
            this.#core?.bufferSize(optname === SO_RCVBUF ? "recv" : "send") ??
            this.#stored.get(name) ??
            212992
          );
      }
    }
    if (level === IPPROTO_IPV6 && optname === IPV6_V6ONLY && this.#family === AF_INET6)
      return this.v6only ? 1 : 0;
    const stored = this.#stored.get(name);
    if (stored !== undefined) return stored;
    if (level === IPPROTO_IP && optname === IP_MULTICAST_LOOP) return 1;
    if (level === IPPROTO_IP && (optname === IP_MULTICAST_TTL || optname === IP_TTL))
      return optname === IP_TTL ? 64 : 1;
    throw makeOSError("ENOPROTOOPT", {
      op: "getsockopt",
      hint: `${name} is not available on a datagram socket in Node.js 20`,
    });
  }
}

function toInt(value: OptValue, name: string): number {
  if (typeof value === "boolean") return value ? 1 : 0;
  if (typeof value === "number" && Number.isInteger(value)) return value;
  if (value instanceof Uint8Array && value.length >= 1) {
    if (value.length >= 4) return Buffer.from(value.buffer, value.byteOffset, 4).readInt32LE(0);
    return value[0]!;
  }
  throw argTypeError("value", `an integer, boolean or packed int for ${name}`, value);
}

function ipv4From(value: OptValue, name: string, offset: number): string {
  if (!(value instanceof Uint8Array) || value.length < offset + 4) {
    throw argTypeError("value", `an IPv4 address string or packed 4-byte in_addr for ${name}`, value);
  }
  return `${value[offset]}.${value[offset + 1]}.${value[offset + 2]}.${value[offset + 3]}`;
}

/** `struct ip_mreq` (8 bytes: group, interface) or `{ group, interface }`. */
function membership4(value: OptValue, name: string): { group: string; iface: string | undefined } {
  if (value instanceof Uint8Array) {
    if (value.length !== 8 && value.length !== 12) {
      throw argTypeError("value", `a packed struct ip_mreq (8 bytes: group + interface) for ${name}`, value);
    }
    const iface = ipv4From(value, name, 4);
    return { group: ipv4From(value, name, 0), iface: iface === "0.0.0.0" ? undefined : iface };
  }
  if (typeof value === "object" && value !== null && typeof (value as Membership).group === "string") {
    const m = value as Membership;
    return { group: m.group, iface: m.interface === undefined ? undefined : String(m.interface) };
  }
  throw argTypeError("value", `{ group, interface? } or a packed struct ip_mreq for ${name}`, value);
}

/** `struct ipv6_mreq` (16-byte group + 4-byte interface index) or `{ group, interface }`. */
function membership6(value: OptValue, name: string): { group: string; iface: string | undefined } {
  if (value instanceof Uint8Array) {
    if (value.length !== 20)
      throw argTypeError("value", `a packed struct ipv6_mreq (20 bytes) for ${name}`, value);
    const group = inet_ntop(AF_INET6, Buffer.from(value.buffer, value.byteOffset, 16));
    const index = Buffer.from(value.buffer, value.byteOffset + 16, 4).readUInt32LE(0);
    return { group, iface: index === 0 ? undefined : `::%${interfaceName(index)}` };
  }
  if (typeof value === "object" && value !== null && typeof (value as Membership).group === "string") {
    const m = value as Membership;
    const i = m.interface;
    return {
      group: m.group,
      iface: i === undefined ? undefined : `::%${typeof i === "number" ? interfaceName(i) : i}`,
    };
  }
  throw argTypeError("value", `{ group, interface? } or a packed struct ipv6_mreq for ${name}`, value);
}

/** The interface name for an index (Linux: /sys/class/net/NAME/ifindex). */
function interfaceName(index: number): string {
  try {
    for (const name of readdirSync("/sys/class/net")) {
      if (Number(readFileSync(`/sys/class/net/${name}/ifindex`, "utf8").trim()) === index) return name;
    }
  } catch {
    // fall through
  }
  return String(index);
}
