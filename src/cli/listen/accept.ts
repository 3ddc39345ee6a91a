/**
 * The accept loop of `sockit listen`: one client (default, like `nc -l`: the listener closes
 * once a client is accepted) or many (`-k`, at most `-m N` at a time); `--allow`/`--deny`
 * decide per peer before the mode sees it. Every accepted client is handed to a
 * {@link ListenMode} as its own task.
 *
 * @module
 */
import { isIPv4 } from "../../addr/inet.js";
import type { Conn, Listener } from "../../net/index.js";
import type { AccessPolicy } from "../cidr.js";
import type { Context } from "../context.js";
import type { Client, ListenMode } from "./mode.js";

/** `-k` without `-m`: at most this many clients at a time (as ncat's default). */
export const DEFAULT_MAX_CLIENTS = 100;

/** How long shutdown waits for client tasks to finish after closing them. */
export const SHUTDOWN_WAIT_MS = 2000;

/**
 * An IPv4-mapped IPv6 address as plain IPv4 (`::ffff:127.0.0.1` → `127.0.0.1`), what a
 * dual-stack listener on `::` reports for IPv4 clients; anything else as is.
 * @example `unmapped("::ffff:10.0.0.1") // "10.0.0.1"`
 */
export function unmapped(address: string): string {
  const m = /^::ffff:(.+)$/i.exec(address);
  return m && isIPv4(m[1]) ? m[1]! : address;
}

/**
 * How a TCP client is named when its address cannot be known: it reset the connection before
 * sockit could accept it (the kernel then refuses getpeername(2), and Node does not keep the
 * address accept(2) returned).
 * @example `if (client.peer === UNKNOWN_TCP_PEER) ctx.info("no address to check")`
 */
export const UNKNOWN_TCP_PEER = "a TCP client that reset before its address could be read";

/**
 * The {@link Client} for an accepted connection: peer `"127.0.0.1:54321"`, `"[::1]:5000"`,
 * its path or `"unix"` when unnamed (with address "" and port 0) for a Unix client, or {@link UNKNOWN_TCP_PEER} (address ""
 * and port 0) for a TCP client whose address is gone.
 * @example `clientOf(conn, 1).peer // "127.0.0.1:54321"`
 */
export function clientOf(conn: Conn, id: number): Client {
  const ep = conn.remoteEndpoint;
  // a Unix connection always has an endpoint (a path, maybe ""): none at all means TCP, unknown
  if (ep === undefined) return { conn, id, peer: UNKNOWN_TCP_PEER, peerAddress: "", peerPort: 0 };
  if ("path" in ep) return { conn, id, peer: ep.path || "unix", peerAddress: "", peerPort: 0 };
  const address = unmapped(ep.address);
  const peer = address.includes(":") ? `[${address}]:${ep.port}` : `${address}:${ep.port}`;
  return { conn, id, peer, peerAddress: address, peerPort: ep.port };
}

/** Options of {@link acceptLoop}. */
export interface AcceptOptions {
  /** Serve many clients (`-k`, `--broker`, `--chat`); otherwise one, then return. */
  readonly keep: boolean;
  /** With `keep`: at most this many at a time; more are closed with a notice on stderr. */
  readonly max: number;
  /** `--allow` / `--deny`. */
  readonly policy: AccessPolicy;
  /** Stops accepting, closes every client, and makes the loop resolve. */
  readonly signal: AbortSignal;
}

function name(c: Client): string {
  return c.peer === "unix" ? "unix client" : c.peer;
}

/**
 * Accepts clients and serves each with `mode` until `signal` aborts (with `keep`) or the one
 * client is done. Resolves when everything is closed; in single-client mode a failure of the
 * client's session rejects (its exit code becomes the command's).
 *
 * @example
 * ```ts
 * const ln = await listen("tcp", "127.0.0.1:0");
 * await acceptLoop(ln, stdioMode({}, ctx), ctx, { keep: false, max: 1, policy, signal });
 * ```
 */
export async function acceptLoop(
  ln: Listener,
  mode: ListenMode,
  ctx: Context,
  opts: AcceptOptions,
): Promise<void> {
  const active = new Map<number, { client: Client; task: Promise<void> }>();
  let nextId = 1;
  const { signal } = opts;
  const stop = () => {
    void ln.close();
    if (mode.saysGoodbye !== true) for (const { client } of active.values()) void client.conn.close();
  };
  signal.addEventListener("abort", stop, { once: true });
  try {
    for (;;) {
      let conn: Conn;
      try {
        conn = await ln.accept({ signal });
      } catch (err) {
        if (signal.aborted) return;
        throw err;
      }
      const client = clientOf(conn, nextId++);
      const verdict = opts.policy.check(client.peerAddress);
      if (!verdict.ok) {
        ctx.info(`denied ${name(client)} (${verdict.why}); closing it`);
        await conn.close();
        continue;
      }
      if (opts.keep && active.size >= opts.max) {
        ctx.err(
          `sockit: refused ${name(client)}: ${active.size} client${active.size === 1 ? "" : "s"} connected, the limit is -m ${opts.max}\n`,
        );
        await conn.close();
        continue;
      }
      ctx.info(`connection from ${name(client)} (#${client.id})`);
      if (!opts.keep) {
        await ln.close(); // like nc -l: one client; later connections are refused by the kernel
        active.set(client.id, { client, task: Promise.resolve() });
        try {
          await mode.serve(client);
        } catch (err) {
          if (!signal.aborted) throw err;
        }
        return;
      }
      const task = mode
        .serve(client)
        .catch((err: unknown) => {
          if (!signal.aborted) ctx.warn(`client #${client.id} ${name(client)}: ${(err as Error).message}`);
        })
        .finally(() => {
          active.delete(client.id);
          ctx.info(`client #${client.id} ${name(client)} done`);
          return client.conn.close();
        });
      active.set(client.id, { client, task });
    }
  } finally {
    signal.removeEventListener("abort", stop);
    await ln.close();
    const goodbye = signal.aborted && mode.saysGoodbye === true;
    if (signal.aborted && !goodbye) for (const { client } of active.values()) await client.conn.close();
    await mode.close();
    if (goodbye) for (const { client } of active.values()) await client.conn.close();
    const tasks = [...active.values()].map((a) => a.task);
    if (tasks.length > 0) await settleWithin(tasks, SHUTDOWN_WAIT_MS);
  }
}

async function settleWithin(tasks: Promise<void>[], ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    Promise.allSettled(tasks),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms);
    }),
  ]);
  clearTimeout(timer);
}
