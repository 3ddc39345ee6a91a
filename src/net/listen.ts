/**
 * `listen` and `Listener`: accept connections, Go style, `for await` included.
 *
 * @module
 */
import { type Endpoint, formatEndpoint } from "../core/endpoint.js";
import { StreamListener } from "../core/listener.js";
import { acceptTLS, type TLSOptions as CoreTLSOptions, tlsContext } from "../core/tls.js";
import { argTypeError, OSError } from "../errors/index.js";
import { DEFAULT_BACKLOG } from "../limits.js";
import { checkNetwork, resolveNetAddress, type StreamNetwork } from "./address.js";
import { type CallOptions, Conn } from "./conn.js";
import { checkOptions, optBool, optInt, optSignal } from "./options.js";
import { checkTLSOptions, type TLSOptions } from "./tls.js";

/**
 * Options of {@link listen}.
 *
 * @example
 * ```ts
 * const stop = new AbortController();
 * const opts: ListenOptions = { backlog: 16, signal: stop.signal };
 * const ln = await listen("tcp", "127.0.0.1:0", opts);
 * stop.abort(); // closes the listener; a `for await` over it ends
 * ```
 */
export interface ListenOptions {
  /** How many connections may wait for accept() (default 128); more are reset. */
  readonly backlog?: number;
  /** Closing signal: when it aborts, the listener closes and `for await` loops end. */
  readonly signal?: AbortSignal;
  /** For "tcp6" or "tcp" on "::": refuse IPv4-mapped connections. */
  readonly ipv6Only?: boolean;
  /**
   * Serve TLS with `{ cert, key }` (PEM; add `requestCert` and `ca` to verify clients). accept()
   * returns at once and each connection's handshake goes on in the background (its first read
   * or write waits for it; `conn.handshake()` waits explicitly), so a slow client holds up
   * nobody; a client that does not finish within 10 s is dropped.
   */
  readonly tls?: TLSOptions;
}

/**
 * A stream listener from {@link listen}. Iterating it yields connections until it is closed;
 * closing ends the loop cleanly.
 *
 * Berkeley equivalent: a listening `socket()`; `accept()` is `accept()`.
 *
 * @example
 * ```ts
 * const ln = await listen("tcp", "127.0.0.1:0");
 * for await (const conn of ln) {
 *   void handle(conn); // one task per connection: do not await here
 * }
 * ```
 */
export class Listener implements AsyncIterable<Conn> {
  readonly #l: StreamListener;
  readonly #tls: CoreTLSOptions | undefined;

  /** Wraps a core listener (made by listen); `tls`: a TLS server's options (with its context). */
  constructor(l: StreamListener, tls?: CoreTLSOptions) {
    this.#l = l;
    this.#tls = tls;
  }

  /** The bound address with the real port: `"127.0.0.1:41234"`, `"[::]:8080"` or a path. */
  get address(): string {
    return formatEndpoint(this.#l.endpoint);
  }

  /** The bound endpoint as a structure. */
  get endpoint(): Endpoint {
    return this.#l.endpoint;
  }

  /** The bound port (0 for Unix listeners). */
  get port(): number {
    const e = this.#l.endpoint;
    return "port" in e ? e.port : 0;
  }

  /** The descriptor number shown in traces. */
  get fd(): number {
    return this.#l.fd;
  }

  /** Connections reset because the accept queue was full. */
  get refused(): number {
    return this.#l.refused;
  }

  /** Waits for the next connection. */
  async accept(opts?: CallOptions): Promise<Conn> {
    const signal = optSignal(checkOptions("opts", opts).signal);
    const w = signal ? { signal } : undefined;
    if (this.#tls !== undefined) return new Conn(await acceptTLS(this.#l, this.#tls, w));
    return new Conn(await this.#l.accept(w));
  }

  /** Stops listening (a Unix path is removed); accepted connections go on. Idempotent. */
  close(): Promise<void> {
    return this.#l.close();
  }

  /** Yields connections until the listener is closed. */
  async *[Symbol.asyncIterator](): AsyncIterator<Conn> {
    for (;;) {
      let conn: Conn;
      try {
        conn = await this.accept();
      } catch (err) {
        if (this.#l.closed && err instanceof OSError && err.code === "EBADF") return;
        throw err;
      }
      yield conn;
    }
  }

  /** `await using ln = await listen(…)`: closes the listener. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/**
 * Listens on `address` for `network` ("tcp", "tcp4", "tcp6", "unix"): `"127.0.0.1:0"` (a free
 * port), `":8080"` (all interfaces), `"[::1]:0"`, `"/tmp/s.sock"`.
 *
 * Berkeley equivalent: `socket()`, `setsockopt(SO_REUSEADDR)`, `bind(address)`, `listen(backlog)`.
 *
 * @example
 * ```ts
 * const ln = await listen("tcp", "127.0.0.1:0");
 * console.log("listening on", ln.address);
 * ```
 */
export async function listen(
  network: StreamNetwork,
  address: string,
  opts: ListenOptions = {},
): Promise<Listener> {
  const o = checkOptions("opts", opts);
  const signal = optSignal(o.signal);
  const backlog = optInt("backlog", o.backlog, -(2 ** 31), 2 ** 31 - 1) ?? DEFAULT_BACKLOG;
  const ipv6Only = optBool("ipv6Only", o.ipv6Only) ?? false;
  const net = checkNetwork(network);
  let tls: CoreTLSOptions | undefined;
  if (o.tls !== undefined) {
    const t = checkTLSOptions(o.tls);
    if (t.cert === undefined || t.key === undefined) {
      throw argTypeError("tls.cert", "a certificate and key (PEM) for a TLS listener", t.cert);
    }
    tls = { ...t, context: tlsContext(t) };
  }
  const at = await resolveNetAddress(net, address, true, "bind");
  const l = new Listener(await StreamListener.bind(at, { backlog, ipv6Only }), tls);
  if (signal) {
    if (signal.aborted) await l.close();
    else signal.addEventListener("abort", () => void l.close(), { once: true });
  }
  return l;
}
