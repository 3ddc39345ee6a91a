/**
 * `JsonRpcServer`: JSON-RPC 2.0 methods served over stream connections (TCP, Unix; either face).
 *
 * @module
 */
import { setMaxListeners } from "node:events";
import { setTimeout as sleep } from "node:timers/promises";
import { CodecError, FrameTooLargeError } from "../codec/errors.js";
import { framed } from "../codec/framed.js";
import { argTypeError, checkInt } from "../errors/index.js";
import { type Conn, type Listener, listen, type TLSOptions } from "../net/index.js";
import { ErrorCode, RpcError } from "./errors.js";
import { checkRequest, errorResponse, type JsonRpcId, type JsonRpcResponse } from "./protocol.js";
import { parseRpcAddress } from "./address.js";
import { codecFor, type Framing, type RpcStream, toByteStream } from "./transport.js";

/**
 * What a method gets besides its params: a signal that aborts when the request times out or
 * the connection closes.
 *
 * @example
 * ```ts
 * server.method("sleep", async ([ms], { signal }) => {
 *   await setTimeout(ms, undefined, { signal });
 *   return ms;
 * });
 * ```
 */
export interface MethodContext {
  /** Aborts when the request timed out or its connection closed. */
  readonly signal: AbortSignal;
}

/**
 * A method: gets the params (an array for positional, an object for named, `undefined` when the
 * request had none) and returns the result or a promise of it. Throw an {@link RpcError} to
 * answer with that error; anything else thrown answers -32603 Internal error.
 *
 * @example
 * ```ts
 * const subtract: MethodHandler = ([a, b]) => a - b;
 * ```
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type MethodHandler = (params: any, ctx: MethodContext) => unknown;

/**
 * Options of {@link JsonRpcServer}.
 *
 * @example
 * ```ts
 * new JsonRpcServer({ maxMessage: 64 * 1024, concurrency: 8, timeout: 5000, framing: "ndjson" })
 * ```
 */
export interface RpcServerOptions {
  /** Largest message (a request or a batch) in bytes (default 1 MiB); larger: -32600 and close. */
  readonly maxMessage?: number;
  /** Requests one connection may have running at once (default 16); past it, reading pauses. */
  readonly concurrency?: number;
  /** A method that runs longer is answered -32001 and its signal aborts (ms; default 30000; 0: none). */
  readonly timeout?: number;
  /** Framing (default "auto": JSON values with or without newlines between them). */
  readonly framing?: Framing;
  /** Largest batch, in requests (default 1000); larger: -32600. */
  readonly maxBatch?: number;
}

/**
 * A server listening for connections, from {@link JsonRpcServer.listen}.
 *
 * @example
 * ```ts
 * const ln = await server.listen("tcp://127.0.0.1:0");
 * console.log(ln.address); // "127.0.0.1:41234"
 * await ln.close();
 * ```
 */
export interface RpcListener {
  /** The bound address (`"127.0.0.1:41234"` or a path). */
  readonly address: string;
  /** The bound port (0 for Unix). */
  readonly port: number;
  /** Stops listening and closes every connection (running methods see their signal abort). */
  close(): Promise<void>;
}

const NEVER = new AbortController().signal;
setMaxListeners(0, NEVER);

type Outcome = JsonRpcResponse | JsonRpcResponse[] | undefined;

/**
 * A JSON-RPC 2.0 server: register methods, then serve connections.
 *
 * Each connection is read one message at a time (a request, a notification or a batch); replies
 * go out as methods finish, in any order (clients match them by id). At most `concurrency`
 * requests of a connection run at once: past that the server stops reading it, so TCP flow
 * control slows the client and memory stays bounded (at most `concurrency` messages of at most
 * `maxMessage` bytes). A message that cannot be framed (bad JSON: -32700; too large: -32600) is
 * answered with id null and the connection is closed, since the stream cannot be trusted after it.
 *
 * @example
 * ```ts
 * import { JsonRpcServer } from "sockit/jsonrpc";
 * const server = new JsonRpcServer();
 * server.method("subtract", ([a, b]) => a - b);
 * server.method("hello", ({ name }) => `hello, ${name}`);
 * const ln = await server.listen("tcp://127.0.0.1:7070");
 * ```
 */
export class JsonRpcServer {
  readonly #methods = new Map<string, MethodHandler>();
  readonly #maxMessage: number;
  readonly #concurrency: number;
  readonly #timeout: number;
  readonly #framing: Framing;
  readonly #maxBatch: number;

  /** A server with no methods yet. */
  constructor(opts: RpcServerOptions = {}) {
    if (typeof opts !== "object" || opts === null) throw argTypeError("opts", "an object", opts);
    this.#maxMessage = checkInt("maxMessage", opts.maxMessage ?? 1 << 20, 2, 2 ** 30);
    this.#concurrency = checkInt("concurrency", opts.concurrency ?? 16, 1, 1 << 20);
    this.#timeout = checkInt("timeout", opts.timeout ?? 30_000, 0, 2 ** 31 - 1);
    this.#maxBatch = checkInt("maxBatch", opts.maxBatch ?? 1000, 1, 1 << 20);
    this.#framing = opts.framing ?? "auto";
    codecFor(this.#framing, this.#maxMessage); // checks the name
  }

  /** Registers (or replaces) a method; returns the server for chaining. */
  method(name: string, handler: MethodHandler): this {
    if (typeof name !== "string" || name === "") throw argTypeError("name", "a method name", name);
    if (typeof handler !== "function") throw argTypeError("handler", "a function", handler);
    this.#methods.set(name, handler);
    return this;
  }

  /** The registered method names. */
  get methods(): string[] {
    return [...this.#methods.keys()];
  }

  /**
   * Answers one parsed message (a request, a notification or a batch) as a connection would:
   * the response, an array of them for a batch, or `undefined` when there is nothing to send
   * (notifications). Useful to serve JSON-RPC over another transport.
   */
  async handle(message: unknown, signal: AbortSignal = NEVER): Promise<Outcome> {
    if (!Array.isArray(message)) return this.#one(message, signal);
    if (message.length === 0)
      return errorResponse(null, new RpcError(ErrorCode.InvalidRequest, "Invalid Request", "empty batch"));
    if (message.length > this.#maxBatch)
      return errorResponse(
        null,
        new RpcError(
          ErrorCode.InvalidRequest,
          "Invalid Request",
          `batch of more than ${this.#maxBatch} requests`,
        ),
      );
    const out: JsonRpcResponse[] = [];
    // a batch runs with the connection's concurrency, not all at once
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < message.length) {
        const r = await this.#one(message[next++], signal);
        if (r !== undefined) out.push(r);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.#concurrency, message.length) }, worker));
    return out.length > 0 ? out : undefined;
  }

  async #one(v: unknown, signal: AbortSignal): Promise<JsonRpcResponse | undefined> {
    const req = checkRequest(v);
    if ("error" in req) return errorResponse(req.id, req.error);
    const notify = !Object.hasOwn(req, "id");
    const id: JsonRpcId = notify ? null : (req.id as JsonRpcId);
    const fn = this.#methods.get(req.method);
    if (fn === undefined) {
      return notify
        ? undefined
        : errorResponse(id, new RpcError(ErrorCode.MethodNotFound, "Method not found", req.method));
    }
    const ac = new AbortController();
    const onAbort = (): void => ac.abort(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    let timer: NodeJS.Timeout | undefined;
    try {
      const run = Promise.resolve().then(() => fn(req.params, { signal: ac.signal }));
      const limit =
        this.#timeout === 0
          ? undefined
          : new Promise<never>((_, reject) => {
              timer = setTimeout(() => {
                const e = new RpcError(
                  ErrorCode.RequestTimeout,
                  "Request timed out",
                  `${req.method} took longer than ${this.#timeout} ms`,
                );
                ac.abort(e);
                reject(e);
              }, this.#timeout);
            });
      run.catch(() => {}); // a method that fails after its timeout must not go unhandled
      const result = await (limit ? Promise.race([run, limit]) : run);
      if (notify) return undefined;
      return { jsonrpc: "2.0", result: result === undefined ? null : result, id };
    } catch (err) {
      if (notify) return undefined;
      if (err instanceof RpcError) return errorResponse(id, err);
      return errorResponse(
        id,
        new RpcError(
          ErrorCode.InternalError,
          "Internal error",
          err instanceof Error ? err.message : String(err),
        ),
      );
    } finally {
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
    }
  }

  /**
   * Serves one connection (a `Conn` or a connected Berkeley socket) until the client closes
   * its side and every reply is sent, then closes it. Never rejects: socket errors end the
   * connection.
   */
  async serve(conn: RpcStream, opts: { signal?: AbortSignal } = {}): Promise<void> {
    const stream = toByteStream(conn);
    // replies are small and latency is the point: no Nagle delay (a no-op on Unix sockets)
    try {
      (conn as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);
    } catch {
      // not a TCP socket
    }
    const codec = codecFor(this.#framing, this.#maxMessage);
    const f = framed(stream, codec);
    const ac = new AbortController();
    setMaxListeners(0, ac.signal); // one listener per running request, bounded by `concurrency`
    const onStop = (): void => {
      ac.abort(new Error("server closing"));
      void stream.close?.().catch(() => {});
    };
    opts.signal?.addEventListener("abort", onStop, { once: true });
    let running = 0;
    let wake: (() => void) | undefined;
    let writing: Promise<unknown> = Promise.resolve();
    let broken = false;
    const send = (reply: unknown): Promise<unknown> => {
      let bytes: Buffer;
      try {
        bytes = codec.encode(reply);
      } catch (err) {
        const r = reply as { id?: JsonRpcId };
        const why =
          err instanceof FrameTooLargeError ? `reply larger than ${this.#maxMessage} bytes` : String(err);
        bytes = codec.encode(
          errorResponse(
            Array.isArray(reply) ? null : (r.id ?? null),
            new RpcError(ErrorCode.InternalError, "Internal error", why),
          ),
        );
      }
      writing = writing.then(async () => {
        if (broken) return;
        try {
          await stream.write(bytes);
        } catch {
          broken = true;
        }
      });
      return writing;
    };
    const parseBody = (frame: unknown): { ok: true; value: unknown } | { ok: false } => {
      if (this.#framing !== "content-length") return { ok: true, value: frame };
      try {
        return { ok: true, value: JSON.parse((frame as Buffer).toString("utf8")) };
      } catch {
        return { ok: false };
      }
    };
    try {
      for (;;) {
        while (running >= this.#concurrency) await new Promise<void>((r) => (wake = r));
        let frame: unknown;
        try {
          frame = await f.read();
        } catch (err) {
          if (err instanceof CodecError) {
            const tooLarge = err instanceof FrameTooLargeError;
            await send(
              errorResponse(
                null,
                new RpcError(
                  tooLarge ? ErrorCode.InvalidRequest : ErrorCode.ParseError,
                  tooLarge ? "Invalid Request" : "Parse error",
                  err.message,
                ),
              ),
            );
          }
          break;
        }
        if (frame === undefined) break;
        const body = parseBody(frame);
        if (!body.ok) {
          void send(
            errorResponse(null, new RpcError(ErrorCode.ParseError, "Parse error", "body is not JSON")),
          );
          continue;
        }
        // a request holds its slot until its reply is written: a client that does not read its
        // replies stalls its own connection (TCP flow control), it cannot queue them here
        running++;
        void this.handle(body.value, ac.signal)
          .then((out) => (out === undefined ? undefined : send(out)))
          .catch(() => {})
          .finally(() => {
            running--;
            wake?.();
            wake = undefined;
          });
      }
      while (running > 0) await new Promise<void>((r) => (wake = r));
      await writing;
    } finally {
      ac.abort(new Error("connection closed"));
      opts.signal?.removeEventListener("abort", onStop);
      await stream.close?.().catch(() => {});
    }
  }

  /**
   * Listens on `address` (`tcp://HOST:PORT`, `HOST:PORT`, `unix:/path`) and serves every
   * connection; port 0 picks a free port (see the listener's `address`). With `tls: { cert, key }`
   * it speaks JSON-RPC over TLS: each connection's handshake runs in the background, and a client
   * that does not finish it within 10 s is dropped.
   */
  async listen(address: string, opts: { backlog?: number; tls?: TLSOptions } = {}): Promise<RpcListener> {
    const at = parseRpcAddress(address);
    const ln: Listener = await listen(at.network, at.address, {
      ...(opts.backlog === undefined ? {} : { backlog: opts.backlog }),
      ...(opts.tls === undefined ? {} : { tls: opts.tls }),
    });
    const stop = new AbortController();
    const live = new Set<Promise<void>>();
    const loop = (async () => {
      for (;;) {
        let conn: Conn;
        try {
          conn = await ln.accept();
        } catch {
          if (stop.signal.aborted) return;
          // out of descriptors (EMFILE) or a connection gone before accept: go on after a pause
          await sleep(50);
          continue;
        }
        const p = this.serve(conn, { signal: stop.signal }).finally(() => live.delete(p));
        live.add(p);
      }
    })();
    return {
      address: ln.address,
      port: ln.port,
      close: async () => {
        stop.abort();
        await ln.close();
        await loop;
        await Promise.all(live);
      },
    };
  }
}
