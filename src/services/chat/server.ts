/**
 * The chat server: a {@link ChatHub} on a TCP listener. Each connection is served by
 * {@link ChatConnections} (512-byte lines, flood control, a bounded send queue, the registration
 * and ping timeouts); per server: the client limits (total and per source) and a graceful
 * shutdown that tells everyone.
 *
 * @module
 */
import { type Conn, type Listener, listen, OSError, type TLSOptions } from "../../net/index.js";
import { sourceKey } from "../rfc/source.js";
import { type ChatEvent, ChatConnections } from "./connections.js";
import { ChatHub } from "./hub.js";
import { type ChatLimits, DEFAULT_CHAT_LIMITS } from "./limits.js";

/**
 * Options of {@link serveChat}.
 *
 * @example
 * ```ts
 * const opts: ChatServerOptions = { host: "127.0.0.1", port: 0, history: 20, motd: ["Be nice."] };
 * ```
 */
export interface ChatServerOptions {
  /** Address to listen on (default "127.0.0.1"). */
  readonly host?: string;
  /** Port (default 6667; 0: a free port). */
  readonly port?: number;
  /** The server's name in prefixes (default "sockit"). */
  readonly serverName?: string;
  /** Message of the day, one string per line (default none: 422). */
  readonly motd?: readonly string[];
  /** Password IRC clients must give with PASS (default none). */
  readonly password?: string;
  /** Messages per room replayed to plain users who join (default 0). */
  readonly history?: number;
  /** Limits (defaults: {@link DEFAULT_CHAT_LIMITS}). */
  readonly limits?: Partial<ChatLimits>;
  /** A hub to serve (default: a new one). `sockit listen --chat` passes its own. */
  readonly hub?: ChatHub;
  /** Connections accepted, closed and dropped, for logs (`-v`). */
  readonly onEvent?: (e: ChatEvent) => void;
  /**
   * TLS (IRC's port for it is 6697): the server's `cert` and `key` (PEM). Each connection's
   * handshake runs in the background; a client that does not finish it within 10 s is dropped.
   */
  readonly tls?: TLSOptions;
}

/**
 * The chat's default port (IRC).
 * @example `await serveChat({ port: DEFAULT_CHAT_PORT }) // 127.0.0.1:6667`
 */
export const DEFAULT_CHAT_PORT = 6667;

/**
 * A running chat server, from {@link serveChat}.
 *
 * @example
 * ```ts
 * const server = await serveChat({ port: 0 });
 * console.log(server.address); // 127.0.0.1:41234
 * await server.close();        // every client is told, then disconnected
 * ```
 */
export class ChatServer {
  /** The hub (who is where). */
  readonly hub: ChatHub;
  /** The limits in force. */
  readonly limits: ChatLimits;
  readonly #ln: Listener;
  readonly #opts: ChatServerOptions;
  readonly #conns: ChatConnections;
  readonly #perSource = new Map<string, number>();
  readonly #sweeper: NodeJS.Timeout;
  readonly #accepting: Promise<void>;
  #closing: Promise<void> | undefined;

  /** @internal Made by {@link serveChat}. */
  constructor(ln: Listener, opts: ChatServerOptions, limits: ChatLimits) {
    this.#ln = ln;
    this.#opts = opts;
    this.limits = limits;
    this.hub =
      opts.hub ?? new ChatHub({ serverName: opts.serverName ?? "sockit", history: opts.history ?? 0 });
    this.#conns = new ChatConnections({
      shared: { hub: this.hub, motd: opts.motd, password: opts.password },
      limits,
      onEvent: opts.onEvent,
    });
    const every = Math.max(
      20,
      Math.min(1000, limits.registrationMs / 4, limits.pingMs / 4, limits.pongMs / 4),
    );
    this.#sweeper = setInterval(() => this.#conns.sweep(), every);
    this.#sweeper.unref();
    this.#accepting = this.#acceptLoop();
  }

  /** The bound address with its port: `"127.0.0.1:6667"`. */
  get address(): string {
    return this.#ln.address;
  }

  /** The bound port. */
  get port(): number {
    return Number(this.#ln.address.slice(this.#ln.address.lastIndexOf(":") + 1));
  }

  /** Connections now. */
  get clients(): number {
    return this.#conns.size;
  }

  /**
   * Stops accepting, tells every client (`ERROR :Closing Link: host (Server shutting down)`;
   * plain users read `*** Closing Link …`), gives them `limits.graceMs` to read it, then
   * closes. Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      clearInterval(this.#sweeper);
      await this.#ln.close();
      await this.#accepting;
      await this.#conns.close("Server shutting down", this.limits.graceMs);
    })();
    return this.#closing;
  }

  async #acceptLoop(): Promise<void> {
    for (;;) {
      try {
        for await (const conn of this.#ln) this.#admit(conn);
        return;
      } catch (err) {
        if (this.#closing) return;
        if (err instanceof OSError && (err.code === "EMFILE" || err.code === "ENFILE")) {
          await new Promise((r) => setTimeout(r, 100));
          continue;
        }
        return;
      }
    }
  }

  #admit(conn: Conn): void {
    const ep = conn.remoteEndpoint;
    const address = ep !== undefined && "address" in ep ? ep.address : "unix";
    const source = sourceKey(address);
    const peer = conn.remoteAddress;
    const over =
      this.#conns.size >= this.limits.maxClients
        ? `Too many connections (limit ${this.limits.maxClients})`
        : (this.#perSource.get(source) ?? 0) >= this.limits.maxPerSource
          ? `Too many connections from ${source} (limit ${this.limits.maxPerSource})`
          : undefined;
    if (over !== undefined) {
      this.#opts.onEvent?.({ type: "refused", peer, reason: over });
      conn.setWriteDeadline(Date.now() + 1000);
      void conn
        .write(`ERROR :Closing Link: ${address} (${over})\r\n`)
        .then(() => conn.close())
        .catch(() => conn.abort());
      return;
    }
    this.#perSource.set(source, (this.#perSource.get(source) ?? 0) + 1);
    void this.#conns.serve(conn, { host: address, peer }).then(() => {
      const n = (this.#perSource.get(source) ?? 1) - 1;
      if (n <= 0) this.#perSource.delete(source);
      else this.#perSource.set(source, n);
    });
  }
}

/**
 * Starts a chat server (IRC and plain text on one port).
 *
 * @example
 * ```ts
 * const server = await serveChat({ host: "127.0.0.1", port: 6667, history: 20 });
 * // irssi -c 127.0.0.1 -p 6667, or: nc 127.0.0.1 6667
 * ```
 */
export async function serveChat(opts: ChatServerOptions = {}): Promise<ChatServer> {
  const limits = { ...DEFAULT_CHAT_LIMITS, ...opts.limits };
  for (const [k, v] of Object.entries(limits)) {
    if (typeof v !== "number" || !(v >= (k === "graceMs" ? 0 : 1)) || !Number.isFinite(v))
      throw new RangeError(`chat limit ${k} must be a number ≥ 1, got ${String(v)}`);
  }
  const host = opts.host ?? "127.0.0.1";
  const port = opts.port ?? DEFAULT_CHAT_PORT;
  const ln = await listen(
    "tcp",
    host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`,
    opts.tls === undefined ? {} : { tls: opts.tls },
  );
  return new ChatServer(ln, opts, limits);
}
