/**
 * `serveHttp`: an HTTP/1.1 server whose requests are parsed by Node's own llhttp (through
 * `node:http`'s server machinery, which is never made to listen) and whose connections are
 * accepted, limited and traced by sockit: each connection sockit's listener accepts is admitted
 * (total and per-source limits), wrapped in a {@link ConnDuplex} and handed to `node:http` with
 * `emit("connection")`.
 *
 * @module
 */
import * as http from "node:http";
import { type Listener, listen, type Conn, type TLSOptions } from "../../net/index.js";
import { sourceKey } from "../rfc/source.js";
import { settle } from "../rfc/linger.js";
import { ConnDuplex } from "./duplex.js";
import { commonLog } from "./protocol.js";

/**
 * A request handler, as `node:http` calls it.
 * @example `const hello: HttpHandler = (req, res) => res.end("hello\\n")`
 */
export type HttpHandler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

/**
 * The limits of {@link serveHttp}, each with its default in {@link DEFAULT_HTTP_LIMITS}.
 *
 * @example
 * ```ts
 * const limits: Partial<HttpLimits> = { maxConnections: 64, requestTimeoutMs: 5000 };
 * await serveHttp({ address: "127.0.0.1:0", handler: staticHandler({ root: "." }), limits });
 * ```
 */
export interface HttpLimits {
  /** Connections at once; more are answered 503 and closed. */
  readonly maxConnections: number;
  /** Connections at once from one address (IPv6: one /64); more are answered 429 and closed. */
  readonly maxPerSource: number;
  /** Bytes of the request line and headers together (llhttp's limit); more: 431. */
  readonly maxHeaderSize: number;
  /** Header fields in one request; more: 431. */
  readonly maxHeaders: number;
  /** A request (line, headers and body) must arrive within this (ms); else 408 and close. */
  readonly requestTimeoutMs: number;
  /** A write of a response the client does not take within this (ms) resets the connection. */
  readonly sendTimeoutMs: number;
  /** A kept-alive connection without a new request is closed after this (ms). */
  readonly keepAliveMs: number;
  /** Connections waiting to be accepted (the listen backlog). */
  readonly backlog: number;
  /** At close, how long running responses get to finish (ms) before they are cut. */
  readonly graceMs: number;
}

/**
 * The default limits: 256 connections, 32 per source, 16 KiB of headers in at most 100 fields,
 * a request within 10 s, each piece of an answer taken within 30 s, 5 s of keep-alive idleness.
 *
 * @example `DEFAULT_HTTP_LIMITS.maxConnections // 256`
 */
export const DEFAULT_HTTP_LIMITS: HttpLimits = {
  maxConnections: 256,
  maxPerSource: 32,
  maxHeaderSize: 16 * 1024,
  maxHeaders: 100,
  requestTimeoutMs: 10_000,
  sendTimeoutMs: 30_000,
  keepAliveMs: 5_000,
  backlog: 511,
  graceMs: 2_000,
};

/**
 * Options of {@link serveHttp}.
 * @example `const o: HttpServerOptions = { address: "127.0.0.1:0", handler: staticHandler({ root: "." }) }`
 */
export interface HttpServerOptions {
  /** Where to listen: `"127.0.0.1:8000"`, `"[::1]:0"` (port 0: any free port). */
  readonly address: string;
  /** Answers every request (e.g. {@link staticHandler}, or a page of your own). */
  readonly handler: HttpHandler;
  /** Limits; what is not given keeps its default. */
  readonly limits?: Partial<HttpLimits>;
  /** Called with one Common Log Format line per answered request (no newline). */
  readonly log?: (line: string) => void;
  /** Called with connection events: refusals, timeouts, parse errors. */
  readonly onEvent?: (e: HttpEvent) => void;
  /**
   * HTTPS: the server's `cert` and `key` (PEM). Each connection's handshake runs in the
   * background; a client that does not finish it within 10 s is dropped and frees its slot.
   */
  readonly tls?: TLSOptions;
}

/**
 * What happened to a connection outside the request/response flow.
 *
 * @example `onEvent: (e) => console.error(`${e.type} ${e.peer}: ${e.detail}`)`
 */
export interface HttpEvent {
  readonly type: "accepted" | "refused" | "bad-request" | "timeout" | "closed";
  readonly peer: string;
  readonly detail: string;
}

/**
 * Counters of an {@link HttpServer}.
 *
 * @example `srv.counters.requests // answered requests so far`
 */
export interface HttpCounters {
  accepted: number;
  active: number;
  refused: number;
  requests: number;
  badRequests: number;
  timeouts: number;
}

/** How long a refused or failed client gets to read its answer and close before it is reset (ms). */
const REFUSAL_LINGER_MS = 1000;

function status(code: number, text: string): string {
  const body = `${code} ${text}\n`;
  return (
    `HTTP/1.1 ${code} ${http.STATUS_CODES[code] ?? ""}\r\nContent-Type: text/plain; charset=utf-8\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`
  );
}

/** The answer to a request llhttp refused or that took too long, by Node's error code. */
function clientErrorAnswer(code: string | undefined): [number, string] {
  switch (code) {
    case "HPE_HEADER_OVERFLOW":
      return [431, "request header fields too large"];
    case "ERR_HTTP_REQUEST_TIMEOUT":
      return [408, "request timeout: the request did not arrive in time"];
    case "HPE_UNEXPECTED_CONTENT_LENGTH":
      return [400, "bad request: Content-Length with Transfer-Encoding, or a duplicate Content-Length"];
    default:
      return [400, "bad request: the request is not valid HTTP/1.1"];
  }
}

/**
 * A running HTTP server from {@link serveHttp}.
 *
 * @example
 * ```ts
 * const srv = await serveHttp({ address: "127.0.0.1:0", handler: staticHandler({ root: "." }) });
 * console.log(`http://${srv.address}/`);
 * await srv.close();
 * ```
 */
export class HttpServer {
  /** The counters, updated as connections come and go. */
  readonly counters: HttpCounters = {
    accepted: 0,
    active: 0,
    refused: 0,
    requests: 0,
    badRequests: 0,
    timeouts: 0,
  };
  /** The limits in force. */
  readonly limits: HttpLimits;
  readonly #ln: Listener;
  readonly #http: http.Server;
  readonly #sockets = new Set<ConnDuplex>();
  readonly #tasks = new Set<Promise<unknown>>();
  readonly #perSource = new Map<string, number>();
  readonly #opts: HttpServerOptions;
  readonly #loop: Promise<void>;
  #closing: Promise<void> | undefined;

  /** Made by {@link serveHttp}. */
  constructor(ln: Listener, opts: HttpServerOptions, limits: HttpLimits) {
    this.#ln = ln;
    this.#opts = opts;
    this.limits = limits;
    const srv = http.createServer({
      maxHeaderSize: limits.maxHeaderSize,
      requestTimeout: limits.requestTimeoutMs,
      headersTimeout: limits.requestTimeoutMs,
      keepAliveTimeout: limits.keepAliveMs,
      // how often Node looks for requests over their time (its default, 30 s, is too coarse)
      connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(limits.requestTimeoutMs / 4))),
      joinDuplicateHeaders: false,
    });
    // one more than allowed, so a request over the limit can be told from one at it
    srv.maxHeadersCount = limits.maxHeaders + 1;
    srv.on("request", (req: http.IncomingMessage, res: http.ServerResponse) => this.#request(req, res));
    srv.on("clientError", (err: NodeJS.ErrnoException, socket: ConnDuplex) => this.#clientError(err, socket));
    // the request-timeout sweep starts on 'listening'; the server never listens itself
    srv.emit("listening");
    this.#http = srv;
    this.#loop = this.#acceptLoop();
  }

  /** The bound address with the real port: `"127.0.0.1:8000"`, `"[::1]:41234"`. */
  get address(): string {
    return this.#ln.address;
  }

  /** The bound port. */
  get port(): number {
    return this.#ln.port;
  }

  /** The `node:http` server (not listening: sockit feeds it), for `'upgrade'` and the like. */
  get httpServer(): http.Server {
    return this.#http;
  }

  #emit(e: HttpEvent): void {
    this.#opts.onEvent?.(e);
  }

  #track(p: Promise<unknown>): void {
    this.#tasks.add(p);
    void p.finally(() => this.#tasks.delete(p));
  }

  async #acceptLoop(): Promise<void> {
    for await (const conn of this.#ln) {
      try {
        this.#admit(conn);
      } catch {
        conn.abort();
      }
    }
  }

  #admit(conn: Conn): void {
    const ep = conn.remoteEndpoint;
    const source = sourceKey(ep !== undefined && "address" in ep ? ep.address : "?");
    const peer = conn.remoteAddress;
    const l = this.limits;
    const n = this.#perSource.get(source) ?? 0;
    const over =
      this.#sockets.size >= l.maxConnections
        ? ([503, `too many connections (limit ${l.maxConnections}); try again later`] as const)
        : n >= l.maxPerSource
          ? ([429, `too many connections from ${source} (limit ${l.maxPerSource}); try again later`] as const)
          : undefined;
    if (over !== undefined || this.#closing !== undefined) {
      this.counters.refused++;
      const [code, text] = over ?? [503, "the server is shutting down"];
      this.#emit({ type: "refused", peer, detail: text });
      this.#track(
        (async () => {
          try {
            await conn.write(status(code, text));
            await settle(conn, REFUSAL_LINGER_MS);
          } catch {
            conn.abort();
          }
        })(),
      );
      return;
    }
    this.#perSource.set(source, n + 1);
    this.counters.accepted++;
    this.counters.active++;
    const d = new ConnDuplex(conn, { writeTimeoutMs: l.sendTimeoutMs, lingerMs: REFUSAL_LINGER_MS });
    this.#sockets.add(d);
    this.#emit({ type: "accepted", peer, detail: `${this.#sockets.size} connections` });
    d.once("close", () => {
      this.#sockets.delete(d);
      this.counters.active--;
      const m = (this.#perSource.get(source) ?? 1) - 1;
      if (m <= 0) this.#perSource.delete(source);
      else this.#perSource.set(source, m);
      this.#emit({ type: "closed", peer, detail: `${this.#sockets.size} connections` });
    });
    d.on("error", () => {}); // a reset: node:http is told through 'close'; nothing to report
    this.#http.emit("connection", d);
  }

  #clientError(err: NodeJS.ErrnoException, socket: ConnDuplex): void {
    const [code, text] = clientErrorAnswer(err.code);
    const peer = socket.remoteAddress === undefined ? "?" : `${socket.remoteAddress}:${socket.remotePort}`;
    if (code === 408) this.counters.timeouts++;
    else this.counters.badRequests++;
    this.#emit({
      type: code === 408 ? "timeout" : "bad-request",
      peer,
      detail: `${code} ${text} (${err.code ?? err.message})`,
    });
    const conn = socket.conn as Conn | undefined;
    if (!socket.writable || socket.bytesWritten > 0 || conn === undefined) {
      socket.destroy();
      return;
    }
    this.#opts.log?.(
      commonLog({
        host: socket.remoteAddress ?? "-",
        time: new Date(),
        method: "-",
        target: "-",
        version: "1.1",
        status: code,
        bytes: 0,
      }),
    );
    // answer on the connection itself, then FIN and give the client a moment to read it (a close
    // with its unread request bytes would reset the connection and lose the answer)
    socket.removeAllListeners("data");
    socket.pause();
    this.#track(
      (async () => {
        try {
          await conn.write(status(code, text));
          await settle(conn, REFUSAL_LINGER_MS);
        } catch {
          conn.abort();
        } finally {
          socket.destroy();
        }
      })(),
    );
  }

  #request(req: http.IncomingMessage, res: http.ServerResponse): void {
    this.counters.requests++;
    const started = new Date();
    const log = this.#opts.log;
    if (log !== undefined) {
      const socket = req.socket;
      const written0 = socket.bytesWritten;
      const line = (bytes: number) =>
        log(
          commonLog({
            host: socket.remoteAddress ?? "-",
            time: started,
            method: req.method ?? "-",
            target: req.url ?? "-",
            version: req.httpVersion,
            status: res.statusCode,
            bytes,
          }),
        );
      let finished = false;
      res.once("finish", () => {
        finished = true;
        const len = Number(res.getHeader("content-length") ?? 0);
        line(req.method === "HEAD" || res.statusCode === 304 ? 0 : len);
      });
      // an answer cut off (the client went away, the file shrank, a read failed) is logged too,
      // with the bytes that reached the connection (headers included): fewer than its
      // Content-Length, as a web server's log says of a cut download
      res.once("close", () => {
        if (finished || !res.headersSent) return;
        line(Math.max(0, socket.bytesWritten - written0));
      });
    }
    if (req.rawHeaders.length / 2 > this.limits.maxHeaders) {
      res.shouldKeepAlive = false;
      const body = `431 too many header fields (limit ${this.limits.maxHeaders})\n`;
      res.setHeader("Content-Type", "text/plain; charset=utf-8");
      res.setHeader("Content-Length", Buffer.byteLength(body));
      res.setHeader("Connection", "close");
      res.writeHead(431);
      res.end(body);
      return;
    }
    if (this.#closing !== undefined) res.shouldKeepAlive = false;
    try {
      this.#opts.handler(req, res);
    } catch (err) {
      // a handler's bug answers 500 on its own connection; it does not take the server down
      this.#emit({
        type: "bad-request",
        peer: `${req.socket.remoteAddress ?? "?"}`,
        detail: `handler threw: ${String(err)}`,
      });
      if (res.headersSent) res.destroy();
      else {
        res.statusCode = 500;
        res.setHeader("Content-Type", "text/plain; charset=utf-8");
        res.setHeader("Connection", "close");
        res.end("500 internal server error\n");
      }
    }
  }

  /**
   * Stops listening, closes idle kept-alive connections, lets running responses finish for
   * `graceMs`, then cuts what is left. Idempotent; resolves when every connection is gone.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await this.#ln.close();
      await this.#loop.catch(() => {});
      this.#http.closeIdleConnections();
      const until = Date.now() + this.limits.graceMs;
      while (this.#sockets.size > 0 && Date.now() < until) {
        this.#http.closeIdleConnections();
        await new Promise((r) => setTimeout(r, 20));
      }
      for (const s of this.#sockets) s.destroy();
      this.#http.close();
      this.#http.closeAllConnections();
      await Promise.allSettled([...this.#tasks]);
    })();
    return this.#closing;
  }

  /** `await using srv = await serveHttp(…)`: closes it. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/**
 * Listens on `address` and answers HTTP/1.1 requests with `handler`: sockit accepts and limits
 * the connections (visible under `--trace`), Node's llhttp parses the requests. Mount any
 * handler — {@link staticHandler} for files, or a page of your own:
 *
 * @example
 * ```ts
 * const srv = await serveHttp({
 *   address: "127.0.0.1:0",
 *   handler: (req, res) => {
 *     res.writeHead(200, { "Content-Type": "text/plain" });
 *     res.end(`hello from ${req.url}\n`);
 *   },
 * });
 * // curl http://${srv.address}/x  →  hello from /x
 * await srv.close();
 * ```
 *
 * HTTPS: pass `tls: { cert, key }` (e.g. from `createCertificate` in `sockit/net`).
 */
export async function serveHttp(opts: HttpServerOptions): Promise<HttpServer> {
  const limits: HttpLimits = { ...DEFAULT_HTTP_LIMITS, ...opts.limits };
  const ln = await listen("tcp", opts.address, {
    backlog: limits.backlog,
    ...(opts.tls === undefined ? {} : { tls: opts.tls }),
  });
  return new HttpServer(ln, opts, limits);
}
