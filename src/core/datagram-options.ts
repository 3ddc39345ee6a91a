/**
 * The options of a core `DatagramSocket`: those given when it is made, and the socket options of
 * its base class — each applied to the Node socket now if it is bound, or held and applied at
 * bind (Node applies options only to a bound socket); a failure is an OSError naming the option.
 *
 * @module
 */
import type * as dgram from "node:dgram";
import { isIPv4, isIPv6 } from "node:net";
import { closedError, makeOSError, toSocketError } from "../errors/index.js";

/**
 * Options of `new DatagramSocket(family, opts)`.
 * @example `new DatagramSocket(6, { ipv6Only: true, queueCount: 64 })`
 */
export interface DatagramOptions {
  /** Use this descriptor number (the Berkeley face allocates it at `socket()`). */
  readonly fd?: number | undefined;
  /** SO_REUSEADDR. */
  readonly reuseAddr?: boolean | undefined;
  /** IPV6_V6ONLY (IPv6 sockets). */
  readonly ipv6Only?: boolean | undefined;
  /** Queue bound in datagrams (default DGRAM_QUEUE_COUNT in limits.ts). */
  readonly queueCount?: number | undefined;
  /** Queue bound in bytes (default DGRAM_QUEUE_BYTES in limits.ts). */
  readonly queueBytes?: number | undefined;
}

/**
 * The option setters every `DatagramSocket` has; the socket supplies its Node socket and
 * its state, and applies the held options when it is bound.
 * @example `const s = new DatagramSocket(4); s.setBroadcast(true); await s.bind(ep) // applied now`
 */
export abstract class DatagramSocketOptions {
  // options set before bind: Node applies them only to a bound socket
  #pendingOptions: Array<() => void> | undefined;

  /** The Node socket the options apply to. */
  protected abstract get optionSocket(): dgram.Socket;

  /** Whether options can be applied now ("bound"), must wait ("unbound") or fail ("closing"). */
  protected abstract get optionState(): "unbound" | "bound" | "closing";

  /** Applies the options held until bind (throws the first failure as an OSError). */
  protected applyPendingOptions(): void {
    for (const apply of this.#pendingOptions?.splice(0) ?? []) apply();
  }

  /** SO_BROADCAST: allows sending to broadcast addresses. */
  setBroadcast(on: boolean): void {
    this.#option("SO_BROADCAST", (s) => s.setBroadcast(on));
  }

  /** IP_TTL / IPV6_UNICAST_HOPS (1..255). */
  setTTL(hops: number): void {
    this.#option("IP_TTL", (s) => s.setTTL(hops));
  }

  /** IP_MULTICAST_TTL / IPV6_MULTICAST_HOPS (0..255). */
  setMulticastTTL(hops: number): void {
    this.#option("IP_MULTICAST_TTL", (s) => s.setMulticastTTL(hops));
  }

  /** IP_MULTICAST_LOOP: whether this host's own multicast comes back to it. */
  setMulticastLoopback(on: boolean): void {
    this.#option("IP_MULTICAST_LOOP", (s) => s.setMulticastLoopback(on));
  }

  /** IP_MULTICAST_IF: the interface (its address; IPv6 `::%eth0`) multicast leaves by. */
  setMulticastInterface(iface: string): void {
    this.#option("IP_MULTICAST_IF", (s) => s.setMulticastInterface(iface));
  }

  /**
   * Joins (`join` true) or leaves a multicast group, on the interface with address `iface` if
   * given. Joining an address that is not a multicast group is EINVAL at once, as setsockopt(2)
   * says; leaving a group not joined is EADDRNOTAVAIL. `op` names the call in errors.
   */
  membership(join: boolean, group: string, iface?: string, op = "setsockopt"): void {
    const name = join ? "IP_ADD_MEMBERSHIP" : "IP_DROP_MEMBERSHIP";
    if (join) checkGroup(group, name, op);
    const hint = join
      ? `${name}: is ${group} a multicast group, and the interface one of this host's addresses?`
      : `${name}: was ${group} joined (on that interface)?`;
    this.#option(name, (s) => (join ? s.addMembership(group, iface) : s.dropMembership(group, iface)), {
      op,
      address: group,
      hint,
    });
  }

  /** SO_RCVBUF / SO_SNDBUF: sets the kernel buffer size (the kernel doubles it, as Linux). */
  setBufferSize(which: "recv" | "send", bytes: number): void {
    this.#option(which === "recv" ? "SO_RCVBUF" : "SO_SNDBUF", (s) =>
      which === "recv" ? s.setRecvBufferSize(bytes) : s.setSendBufferSize(bytes),
    );
  }

  /** The kernel buffer size in bytes, or undefined before the socket is bound. */
  bufferSize(which: "recv" | "send"): number | undefined {
    if (this.optionState !== "bound") return undefined;
    try {
      const sock = this.optionSocket;
      return which === "recv" ? sock.getRecvBufferSize() : sock.getSendBufferSize();
    } catch (err) {
      throw toSocketError(err, { op: "getsockopt" });
    }
  }

  /** Runs an option now if bound, else at bind; Node's errors become OSErrors naming it. */
  #option(
    name: string,
    apply: (s: dgram.Socket) => void,
    details: { op?: string; address?: string; hint?: string } = {},
  ): void {
    const op = details.op ?? "setsockopt";
    if (this.optionState === "closing") throw closedError(op);
    const run = () => {
      try {
        apply(this.optionSocket);
      } catch (err) {
        throw toSocketError(err, { hint: `${name} failed`, ...details, op });
      }
    };
    if (this.optionState === "bound") run();
    else (this.#pendingOptions ??= []).push(run);
  }
}

/**
 * Checks a multicast group address (224.0.0.0/4 or ff00::/8): anything else is OSError EINVAL,
 * as setsockopt(2) answers a membership for a unicast address.
 * @example `checkGroup("239.1.2.3", "IP_ADD_MEMBERSHIP") // ok; checkGroup("10.0.0.1", …) throws`
 */
export function checkGroup(group: unknown, name: string, op = "setsockopt"): void {
  let ok = false;
  if (typeof group === "string" && isIPv4(group)) {
    const first = Number(group.split(".")[0]);
    ok = first >= 224 && first <= 239;
  } else if (typeof group === "string") ok = isIPv6(group.split("%")[0] ?? "") && /^ff/i.test(group);
  if (!ok) {
    throw makeOSError("EINVAL", {
      op,
      address: String(group),
      hint: `${name}: not a multicast group address (224.0.0.0/4 or ff00::/8)`,
    });
  }
}
