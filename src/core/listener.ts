/**
 * A stream listener (TCP or Unix) over `node:net` with a bounded accept queue in userland.
 *
 * Node accepts every incoming connection itself; sockit keeps them in a queue of at most
 * `backlog` connections (the kernel's own queue sits behind it), paused with `pauseOnConnect` so
 * nothing is read before `accept()`. Beyond the bound, new connections are reset and counted.
 *
 * Node cannot bind a TCP socket without listening, so `bind()` listens at once and the listener
 * stays "bound": connections that arrive before `listen()` are reset (a real kernel would refuse
 * them). EADDRINUSE surfaces at bind time, and the real port is known right after it.
 *
 * @module
 */
import { existsSync } from "node:fs";
import net from "node:net";
import { dirname } from "node:path";
import { makeOSError, type OSError, toSocketError } from "../errors/index.js";
import { DEFAULT_BACKLOG, MAX_BACKLOG } from "../limits.js";
import { traceDone, traceNow, tracing } from "../trace.js";
import { type Endpoint, endpointTrace, formatEndpoint, fromNode, isUnix } from "./endpoint.js";
import { allocFd, releaseFd } from "./fd.js";
import { StreamSocket } from "./stream.js";
import { type Wait, WaitList, Watchers } from "./wait.js";

function ignore(): void {}

/**
 * The peer of a just-arrived TCP connection, read from the handle now: once the client resets,
 * getpeername(2) fails (ENOTCONN), so an accept() after that could not learn it any more.
 */
function peerNow(sock: net.Socket): Endpoint | undefined {
  const handle = (sock as unknown as { _handle?: { getpeername?(o: object): number } | null })._handle;
  const out: { address?: string; port?: number } = {};
  if (typeof handle?.getpeername !== "function" || handle.getpeername(out) !== 0) return undefined;
  if (typeof out.address !== "string") return undefined;
  return { address: out.address, port: out.port ?? 0, family: out.address.includes(":") ? 6 : 4 };
}

/**
 * Node reports EACCES when a Unix socket's directory does not exist; C and Python say ENOENT.
 * Other Unix bind errors get a hint about paths rather than ports.
 */
function unixBindError(err: unknown, at: Endpoint): OSError | undefined {
  if (!isUnix(at) || at.path.startsWith("\0")) return undefined;
  const code = (err as { code?: unknown } | null)?.code;
  if (code === "EACCES" && !existsSync(dirname(at.path))) {
    return makeOSError("ENOENT", {
      op: "bind",
      address: at.path,
      cause: err,
      hint: `the directory ${dirname(at.path)} does not exist`,
    });
  }
  if (code === "EACCES") {
    return makeOSError("EACCES", {
      op: "bind",
      address: at.path,
      cause: err,
      hint: "no permission to create a socket in that directory",
    });
  }
  return undefined;
}

/** Options for {@link bindStream}. */
export interface BindOptions {
  /** Use this descriptor number (the Berkeley face allocates it at `socket()`). */
  readonly fd?: number | undefined;
  /** IPV6_V6ONLY: an IPv6 wildcard listener refuses IPv4-mapped connections. */
  readonly ipv6Only?: boolean | undefined;
  /** Start accepting at once with this backlog (the Go-style face); otherwise call listen(). */
  readonly backlog?: number | undefined;
}

/**
 * A bound (and, after {@link StreamListener.listen}, listening) stream socket.
 *
 * @example
 * ```ts
 * const l = await bindStream({ address: "127.0.0.1", port: 0, family: 4 });
 * l.listen(5);
 * const conn = await l.accept();
 * ```
 */
export class StreamListener {
  /** The small per-process descriptor number. */
  readonly fd: number;
  readonly #server: net.Server;
  readonly #endpoint: Endpoint;
  #queue: net.Socket[] = [];
  /** The peer of each queued connection (TCP), read when it arrived. */
  #peers: Array<Endpoint | undefined> = [];
  #backlog = 0;
  #listening = false;
  #closed = false;
  #error: unknown;
  #waiters = new WaitList();
  #watchers = new Watchers();
  #refused = 0;
  #accepted = 0;

  private constructor(server: net.Server, endpoint: Endpoint, fd: number) {
    this.#server = server;
    this.#endpoint = endpoint;
    this.fd = fd;
    server.on("connection", (sock: net.Socket) => {
      if (!this.#listening || this.#closed || this.#queue.length >= this.#backlog) {
        this.#refused++;
        sock.on("error", ignore);
        sock.resetAndDestroy();
        return;
      }
      sock.on("error", ignore); // errors before accept() surface on the accepted socket's calls
      this.#queue.push(sock);
      this.#peers.push(isUnix(this.#endpoint) ? undefined : peerNow(sock));
      this.#waiters.wakeOne();
      this.#watchers.notify();
    });
    server.on("error", (err) => {
      this.#error = err;
      this.#waiters.wake();
      this.#watchers.notify();
    });
  }

  /**
   * Binds (Node listens at once) without accepting yet; rejects EADDRINUSE, EACCES, ENOENT…
   */
  static bind(at: Endpoint, opts: BindOptions = {}): Promise<StreamListener> {
    const fd = opts.fd ?? allocFd();
    const t0 = tracing() ? traceNow() : 0;
    return new Promise((resolve, reject) => {
      const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true });
      const onError = (err: Error) => {
        server.off("listening", onListening);
        const e = unixBindError(err, at) ?? toSocketError(err, { op: "bind", address: formatEndpoint(at) });
        if (t0) traceDone(fd, "bind", [endpointTrace(at)], t0, undefined, e);
        if (opts.fd === undefined) releaseFd(fd);
        reject(e);
      };
      const onListening = () => {
        server.off("error", onError);
        const addr = server.address();
        const ep = isUnix(at) ? at : (fromNode(addr as net.AddressInfo) ?? at);
        const l = new StreamListener(server, ep, fd);
        if (t0) traceDone(fd, "bind", [endpointTrace(at)], t0, 0);
        if (opts.backlog !== undefined) l.listen(opts.backlog);
        resolve(l);
      };
      server.once("error", onError);
      server.once("listening", onListening);
      if (isUnix(at)) server.listen({ path: at.path, backlog: MAX_BACKLOG, exclusive: true });
      else
        server.listen({
          host: at.address,
          port: at.port,
          backlog: MAX_BACKLOG,
          exclusive: true,
          ipv6Only: opts.ipv6Only ?? false,
        });
    });
  }

  /** Starts accepting; at most `backlog` (at least 1) connections wait for accept(). */
  listen(backlog = DEFAULT_BACKLOG): void {
    const t0 = tracing() ? traceNow() : 0;
    if (this.#closed) throw makeOSError("EBADF", { op: "listen" });
    this.#backlog = Math.max(1, backlog);
    this.#listening = true;
    if (t0) traceDone(this.fd, "listen", [backlog], t0, 0);
  }

  /** The bound endpoint, with the real port. */
  get endpoint(): Endpoint {
    return this.#endpoint;
  }

  /** True after listen(). */
  get listening(): boolean {
    return this.#listening;
  }

  /** True after close(). */
  get closed(): boolean {
    return this.#closed;
  }

  /** Connections waiting for accept(). */
  get pending(): number {
    return this.#queue.length;
  }

  /** Connections reset because the queue was full (or arrived before listen()). */
  get refused(): number {
    return this.#refused;
  }

  /** Connections handed out by accept() so far. */
  get accepted(): number {
    return this.#accepted;
  }

  /** True when accept() would not wait. */
  get readable(): boolean {
    return this.#queue.length > 0 || this.#closed || this.#error !== undefined;
  }

  /**
   * Takes the next connection, waiting for one; the connection starts reading only now.
   */
  async accept(w?: Wait): Promise<StreamSocket> {
    const t0 = tracing() ? traceNow() : 0;
    try {
      for (;;) {
        if (this.#closed) throw makeOSError("EBADF", { op: "accept", hint: "the listener was closed" });
        if (!this.#listening) {
          throw makeOSError("EINVAL", { op: "accept", hint: "call listen() before accept()" });
        }
        const sock = this.#queue.shift();
        const peer = this.#peers.shift();
        if (sock) {
          this.#accepted++;
          const conn = new StreamSocket(
            sock,
            undefined,
            isUnix(this.#endpoint) ? { local: this.#endpoint.path } : undefined,
            peer,
          );
          // learn the peer now: the kernel forgets it once both sides have closed
          conn.remoteEndpoint();
          if (t0) traceDone(this.fd, "accept", [], t0, [conn.fd, endpointTrace(conn.remoteEndpoint())]);
          return conn;
        }
        if (this.#error !== undefined) throw toSocketError(this.#error, { op: "accept" });
        await this.#waiters.wait(w, "accept", formatEndpoint(this.#endpoint));
      }
    } catch (err) {
      if (t0) traceDone(this.fd, "accept", [], t0, undefined, err);
      throw err;
    }
  }

  /** Calls `cb` whenever a connection arrives or the listener fails/closes (for select()). */
  watch(cb: () => void): () => void {
    return this.#watchers.add(cb);
  }

  /** Rejects the calls waiting in accept() with `err`. */
  interrupt(makeError: (op: string) => OSError): void {
    this.#waiters.fail(makeError);
  }

  /**
   * Stops listening: pending accept() calls reject EBADF, queued connections are reset, a Unix
   * socket's path is removed. Accepted connections are not affected. Idempotent.
   */
  close(releaseDescriptor = true): Promise<void> {
    if (this.#closed) return Promise.resolve();
    const t0 = tracing() ? traceNow() : 0;
    this.#closed = true;
    this.#waiters.fail((op) => makeOSError("EBADF", { op, hint: "the listener was closed" }));
    this.#watchers.notify();
    for (const s of this.#queue) s.resetAndDestroy();
    this.#queue = [];
    this.#peers = [];
    if (releaseDescriptor) releaseFd(this.fd);
    if (t0 && releaseDescriptor) traceDone(this.fd, "close", [], t0, 0);
    return new Promise((resolve) => {
      // server.close()'s callback waits for every accepted connection; the listening handle
      // itself is closed synchronously here, which is all close() promises.
      this.#server.close();
      this.#server.unref();
      setImmediate(resolve);
    });
  }
}

/**
 * Binds a stream listener; see {@link StreamListener.bind}.
 * @example `const l = await bindStream({ path: "/tmp/s.sock" }, { backlog: 16 })`
 */
export function bindStream(at: Endpoint, opts: BindOptions = {}): Promise<StreamListener> {
  return StreamListener.bind(at, opts);
}
