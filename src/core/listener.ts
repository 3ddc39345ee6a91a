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
import * as net from "node:net";
import { dirname } from "node:path";
import { closedError, makeOSError, type OSError, toSocketError } from "../errors/index.js";
import { DEFAULT_BACKLOG, MAX_BACKLOG } from "../limits.js";
import { span, sym, traced, tracing } from "../trace.js";
import { Fifo } from "./fifo.js";
import {
  type Endpoint,
  type IpEndpoint,
  endpointTrace,
  formatEndpoint,
  fromNode,
  isUnix,
  peerFromHandle,
} from "./endpoint.js";
import { allocFd, releaseFd } from "./fd.js";
import { StreamSocket } from "./stream.js";
import { type Wait, WaitList, Watchers } from "./wait.js";

function ignore(): void {}

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
  #queue = new Fifo<Arrived>();
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
      // learn the peer on arrival: after a reset in the queue the kernel no longer knows it
      this.#queue.push({ sock, remote: isUnix(this.#endpoint) ? undefined : peerFromHandle(sock) });
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
    if (opts.fd === undefined && tracing()) {
      // a listener made without a Berkeley socket (sockit/net listen) shows the socket() it stands for
      const family = isUnix(at) ? "AF_UNIX" : at.family === 6 ? "AF_INET6" : "AF_INET";
      span(fd, "socket", [sym(family), sym("SOCK_STREAM")])?.ok(fd);
    }
    const sp = span(fd, "bind", [endpointTrace(at)]);
    return new Promise((resolve, reject) => {
      const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true });
      const onError = (err: Error) => {
        server.off("listening", onListening);
        const e = unixBindError(err, at) ?? toSocketError(err, { op: "bind", address: formatEndpoint(at) });
        sp?.fail(e);
        if (opts.fd === undefined) releaseFd(fd);
        reject(e);
      };
      const onListening = () => {
        server.off("error", onError);
        const addr = server.address();
        const ep = isUnix(at) ? at : (fromNode(addr as net.AddressInfo) ?? at);
        const l = new StreamListener(server, ep, fd);
        sp?.ok(0);
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
    const sp = span(this.fd, "listen", [backlog]);
    if (this.#closed) {
      const err = closedError("listen", "listener");
      sp?.fail(err);
      throw err;
    }
    this.#backlog = Math.max(1, backlog);
    this.#listening = true;
    sp?.ok(0);
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
  accept(w?: Wait): Promise<StreamSocket> {
    const sp = span(this.fd, "accept", []);
    return traced(sp, this.#acceptOne(w), (c) => [[c.fd, endpointTrace(c.remoteEndpoint())]]);
  }

  async #acceptOne(w: Wait | undefined): Promise<StreamSocket> {
    const a = await this.#next(w);
    return new StreamSocket(a.sock, undefined, a.unix, a.remote);
  }

  /**
   * Takes the next connection as the Node socket itself, not yet reading (TLS wraps it before
   * a byte is read: core/tls.ts), with a descriptor number the caller owns (releaseFd it if the
   * connection is given up). @internal
   */
  acceptNode(w?: Wait): Promise<AcceptedNode & { fd: number }> {
    const sp = span(this.fd, "accept", []);
    const p = this.#next(w).then((a) => ({ ...a, fd: allocFd() }));
    return traced(sp, p, (a) => [
      [a.fd, endpointTrace(a.remote ?? (a.unix ? { path: a.unix.local } : undefined))],
    ]);
  }

  async #next(w: Wait | undefined): Promise<AcceptedNode> {
    for (;;) {
      if (this.#closed) throw closedError("accept", "listener");
      if (!this.#listening) {
        throw makeOSError("EINVAL", { op: "accept", hint: "call listen() before accept()" });
      }
      const next = this.#queue.shift();
      if (next) {
        this.#accepted++;
        const unix = isUnix(this.#endpoint) ? { local: this.#endpoint.path } : undefined;
        return { sock: next.sock, unix, remote: next.remote };
      }
      if (this.#error !== undefined) {
        // an accept error Node reports is handed out once and the next accept() waits again, as
        // accept(2) fails once; out of descriptors, libuv itself accepts and closes the connection
        // (its reserve descriptor) or keeps retrying without telling Node: nothing arrives here
        const err = this.#error;
        this.#error = undefined;
        throw toSocketError(err, { op: "accept" });
      }
      await this.#waiters.wait(w, "accept", formatEndpoint(this.#endpoint));
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
    const sp = releaseDescriptor ? span(this.fd, "close", []) : undefined;
    this.#closed = true;
    this.#waiters.fail((op) => closedError(op, "listener"));
    this.#watchers.notify();
    for (const a of this.#queue.drain()) a.sock.resetAndDestroy();
    if (releaseDescriptor) releaseFd(this.fd);
    sp?.ok(0);
    return new Promise((resolve) => {
      // server.close()'s callback waits for every accepted connection; the listening handle
      // itself is closed synchronously here, which is all close() promises.
      this.#server.close();
      this.#server.unref();
      setImmediate(resolve);
    });
  }
}

/** A connection taken from the accept queue, before anything was read from it. @internal */
export interface AcceptedNode {
  readonly sock: net.Socket;
  readonly unix: { local: string } | undefined;
  readonly remote: IpEndpoint | undefined;
}

/** A connection waiting in the accept queue, with the peer read when it arrived. */
interface Arrived {
  readonly sock: net.Socket;
  readonly remote: IpEndpoint | undefined;
}

/**
 * Binds a stream listener; see {@link StreamListener.bind}.
 * @example `const l = await bindStream({ path: "/tmp/s.sock" }, { backlog: 16 })`
 */
export function bindStream(at: Endpoint, opts: BindOptions = {}): Promise<StreamListener> {
  return StreamListener.bind(at, opts);
}
