/**
 * The server side of FTP data connections: a passive listener on the control connection's
 * local address (a port from the configured range) that accepts only the control peer, or an
 * active connection to the address PORT/EPRT named (which must be the control peer: no bounce).
 *
 * @module
 */
import { randomInt } from "node:crypto";
import { type Conn, dial, type Listener, listen } from "../../net/index.js";

/** Formats HOST:PORT with IPv6 brackets. */
export function joinHostPort(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/** The same address, IPv4-mapped IPv6 (`::ffff:1.2.3.4`) folded to IPv4. */
export function sameHost(a: string, b: string): boolean {
  const norm = (h: string) => h.replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/i, "$1").toLowerCase();
  return norm(a) === norm(b);
}

/**
 * Listens for one passive data connection on `host`, a port from `range` (tried from a random
 * start, each at most once) or any free port.
 */
export async function passiveListener(
  host: string,
  range: readonly [number, number] | undefined,
): Promise<Listener> {
  if (!range) return listen("tcp", joinHostPort(host, 0), { backlog: 4 });
  const [lo, hi] = range;
  const n = hi - lo + 1;
  const start = randomInt(n);
  let last: unknown;
  for (let i = 0; i < n; i++) {
    try {
      return await listen("tcp", joinHostPort(host, lo + ((start + i) % n)), { backlog: 4 });
    } catch (err) {
      if ((err as { code?: string }).code !== "EADDRINUSE") throw err;
      last = err;
    }
  }
  throw last;
}

/** Where the next transfer's data connection comes from. */
export type DataPlan =
  | { readonly kind: "passive"; readonly ln: Listener }
  | { readonly kind: "active"; readonly host: string; readonly port: number };

/**
 * Opens the data connection the plan describes, within `timeoutMs`: accepts the control peer's
 * connection on the passive listener (others are reset), or dials the active address from the
 * control connection's local address. The passive listener is closed either way. `secure`
 * (PROT P) starts TLS at once, before anything is read: a client's ClientHello may already be
 * on its way.
 */
export async function openData(
  plan: DataPlan,
  peerHost: string,
  localHost: string,
  timeoutMs: number,
  secure?: (c: Conn) => Promise<Conn>,
): Promise<Conn> {
  const signal = AbortSignal.timeout(timeoutMs);
  const wrap = async (c: Conn): Promise<Conn> => {
    if (secure === undefined) return c;
    try {
      return await secure(c);
    } catch (err) {
      c.abort();
      throw err;
    }
  };
  if (plan.kind === "active") {
    return wrap(
      await dial("tcp", joinHostPort(plan.host, plan.port), { timeout: timeoutMs, localAddress: localHost }),
    );
  }
  try {
    for (let i = 0; i < 16; i++) {
      const c = await plan.ln.accept({ signal });
      const ep = c.remoteEndpoint;
      if (ep !== undefined && "address" in ep && sameHost(ep.address, peerHost)) return await wrap(c);
      c.abort(); // someone else raced for the port: not the client's data
    }
    throw new Error("too many data connections from other addresses");
  } finally {
    await plan.ln.close();
  }
}
