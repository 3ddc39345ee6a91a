/**
 * Go-style network names and address strings → core endpoints: `("tcp", "127.0.0.1:80")`,
 * `("tcp6", "[::1]:0")`, `("tcp", ":http")`, `("unix", "/tmp/s.sock")`.
 *
 * @module
 */
import { normalizePort, parseHostPort } from "../addr/address.js";
import { resolveHost, resolveHostAll } from "../addr/resolve.js";
import type { Endpoint } from "../core/endpoint.js";
import { argTypeError, makeOSError } from "../errors/index.js";
import { MAX_UNIX_PATH } from "../limits.js";

/**
 * Stream network names accepted by `dial` and `listen`.
 *
 * @example
 * ```ts
 * const network: StreamNetwork = process.env.SOCK_PATH ? "unix" : "tcp";
 * const conn = await dial(network, process.env.SOCK_PATH ?? "127.0.0.1:8080");
 * ```
 */
export type StreamNetwork = "tcp" | "tcp4" | "tcp6" | "unix";

/**
 * Datagram network names accepted by `dial` and `listenPacket`.
 *
 * @example
 * ```ts
 * const network: PacketNetwork = "udp6";
 * const pc = await listenPacket(network, "[::1]:0");
 * ```
 */
export type PacketNetwork = "udp" | "udp4" | "udp6";

/**
 * Any network name: a stream one (`dial` gives a `Conn`) or a datagram one (a `PacketConn`).
 *
 * @example
 * ```ts
 * async function reachable(network: Network, address: string): Promise<boolean> {
 *   try {
 *     const c = network.startsWith("udp")
 *       ? await dial(network as PacketNetwork, address)
 *       : await dial(network as StreamNetwork, address, { timeout: 1000 });
 *     await c.close();
 *     return true;
 *   } catch {
 *     return false;
 *   }
 * }
 * ```
 */
export type Network = StreamNetwork | PacketNetwork;

const NETWORKS: ReadonlySet<string> = new Set(["tcp", "tcp4", "tcp6", "unix"]);
const PACKET: ReadonlySet<string> = new Set(["udp", "udp4", "udp6"]);

/**
 * Checks a datagram network name.
 * @example `checkPacketNetwork("udp") // "udp"`
 */
export function checkPacketNetwork(network: unknown): PacketNetwork {
  if (typeof network !== "string" || !PACKET.has(network)) {
    throw argTypeError("network", `one of ${[...PACKET].join(", ")}`, network);
  }
  return network as PacketNetwork;
}

/**
 * True for "udp", "udp4", "udp6".
 * @example `isPacketNetwork("udp6") // true`
 */
export function isPacketNetwork(network: unknown): network is PacketNetwork {
  return typeof network === "string" && PACKET.has(network);
}

/**
 * Checks a network name.
 * @example `checkNetwork("tcp4") // "tcp4"`
 */
export function checkNetwork(network: unknown): StreamNetwork {
  if (typeof network !== "string" || !NETWORKS.has(network)) {
    throw argTypeError("network", `one of ${[...NETWORKS].join(", ")}`, network);
  }
  return network as StreamNetwork;
}

/**
 * Resolves an address string for `network`. An empty host means the wildcard when listening
 * (`passive`) and the loopback address when dialling, as in Go.
 *
 * @example `await resolveNetAddress("tcp", "localhost:8080", false) // { address: "127.0.0.1", port: 8080, family: 4 }`
 */
export async function resolveNetAddress(
  network: Network,
  address: string,
  passive: boolean,
  op: string,
): Promise<Endpoint> {
  if (typeof address !== "string")
    throw argTypeError("address", 'a string such as "127.0.0.1:8080"', address);
  if (network === "unix") {
    if (address.length === 0) throw makeOSError("EINVAL", { op, hint: "a unix address is a socket path" });
    if (Buffer.byteLength(address) > MAX_UNIX_PATH) {
      throw makeOSError("ENAMETOOLONG", {
        op,
        address,
        hint: `a unix path has at most ${MAX_UNIX_PATH} bytes`,
      });
    }
    return { path: address };
  }
  const { host, port: portText } = parseHostPort(address);
  const port = normalizePort(portText, isPacketNetwork(network) ? "udp" : "tcp");
  const v = network.endsWith("4") ? 4 : network.endsWith("6") ? 6 : 0;
  const fam = v === 4 ? 2 : v === 6 ? 10 : 0;
  let h = host;
  if (h === "") {
    if (passive) h = v === 4 ? "0.0.0.0" : "::";
    else h = v === 6 ? "::1" : "127.0.0.1";
  }
  const r = await resolveHost(h, fam);
  return { address: r.address, port, family: r.family };
}

/**
 * Every endpoint `address` resolves to for a stream `network`, in the resolver's order, for a
 * connect that tries each (see `connectAny`). A unix path or a literal gives one endpoint. An
 * empty host means the loopback address, as in Go.
 * @example `await resolveNetAddresses("tcp", "localhost:8080") // [{ address: "::1", port: 8080, family: 6 }, …]`
 */
export async function resolveNetAddresses(
  network: StreamNetwork,
  address: string,
  op: string,
  wait: { readonly signal?: AbortSignal } = {},
): Promise<Endpoint[]> {
  if (network === "unix") return [await resolveNetAddress(network, address, false, op)];
  if (typeof address !== "string")
    throw argTypeError("address", 'a string such as "127.0.0.1:8080"', address);
  const { host, port: portText } = parseHostPort(address);
  const port = normalizePort(portText, "tcp");
  const v = network.endsWith("4") ? 4 : network.endsWith("6") ? 6 : 0;
  const h = host === "" ? (v === 6 ? "::1" : "127.0.0.1") : host;
  const all = await resolveHostAll(h, v === 4 ? 2 : v === 6 ? 10 : 0, wait);
  return all.map((r) => ({ address: r.address, port, family: r.family }));
}
