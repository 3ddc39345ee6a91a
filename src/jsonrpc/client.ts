/**
 * `JsonRpcClient`: calls over one stream connection, many in flight, matched by id.
 *
 * @module
 */
import { framed, type Framed } from "../codec/framed.js";
import {
  argTypeError,
  checkInt,
  ConnectionResetError,
  InterruptedError,
  makeOSError,
  OSError,
  TimeoutError,
} from "../errors/index.js";
import { dial } from "../net/dial.js";
import {
  type BatchItem,
  type BatchResult,
  checkParams,
  type RpcCallOptions,
  type RpcClientOptions,
  type RpcProxy,
} from "./client-types.js";
import { RpcError } from "./errors.js";
import { checkResponse, type JsonRpcParams, type JsonRpcResponse } from "./protocol.js";
import { parseRpcAddress } from "./address.js";
import { codecFor, type Framing, type RpcStream, toByteStream } from "./transport.js";

interface Pending {
  readonly method: string;
  readonly resolve: (v: unknown) => void;
  readonly reject: (e: unknown) => void;
}

interface Link {
  readonly stream: ReturnType<typeof toByteStream>;
  readonly f: Framed<unknown>;
  readonly pending: Map<number, Pending>;
  closed: boolean;
  writing: Promise<unknown>;
  /** Settles when the read loop ends (EOF, error or close). */
  done: Promise<void>;
  readonly address: string;
}

/**
 * A JSON-RPC 2.0 client over one connection: many calls in flight at once, matched by id;
 * replies may come in any order. When the connection is lost every pending call rejects at once
 * (ConnectionResetError, or the socket's own error), never hangs; with `reconnect` (see
 * {@link connect}) the next call dials again.
 *
 * @example
 * ```ts
 * import { dial } from "sockit/net";
 * import { JsonRpcClient } from "sockit/jsonrpc";
 * const client = new JsonRpcClient(await dial("tcp", "127.0.0.1:7070"));
 * const [a, b] = await Promise.all([client.call("add", [1, 2]), client.call("echo", ["hi"])]);
 * await client.close();
 * ```
 */
export class JsonRpcClient {
  #link: Link | undefined;
  readonly #dial: (() => Promise<RpcStream>) | undefined;
  #dialing: Promise<Link> | undefined;
  readonly #timeout: number;
  readonly #framing: Framing;
  readonly #maxMessage: number;
  readonly #address: string;
  #nextId = 1;
  #closed = false;

  /**
   * A client over a connected stream (a `Conn` or a Berkeley socket). `redial`, when given,
   * makes a new connection after one is lost (what {@link connect} passes with `reconnect`).
   */
  constructor(
    stream: RpcStream | undefined,
    opts: RpcClientOptions = {},
    redial?: () => Promise<RpcStream>,
    address = "",
  ) {
    if (typeof opts !== "object" || opts === null) throw argTypeError("opts", "an object", opts);
    this.#timeout = checkInt("timeout", opts.timeout ?? 30_000, 0, 2 ** 31 - 1);
    this.#framing = opts.framing ?? "auto";
    this.#maxMessage = checkInt("maxMessage", opts.maxMessage ?? 1 << 20, 2, 2 ** 30);
    codecFor(this.#framing, this.#maxMessage);
    this.#dial = redial;
    this.#address = address || ((stream as { remoteAddress?: string } | undefined)?.remoteAddress ?? "");
    if (stream !== undefined) this.#link = this.#attach(stream);
    else if (redial === undefined) throw argTypeError("stream", "a Conn or a connected socket()", stream);
  }

  /** Calls not answered yet. */
  get pending(): number {
    return this.#link?.pending.size ?? 0;
  }

  #attach(stream: RpcStream): Link {
    const s = toByteStream(stream);
    const link: Link = {
      stream: s,
      f: framed(s, codecFor(this.#framing, this.#maxMessage)),
      pending: new Map(),
      closed: false,
      writing: Promise.resolve(),
      address: this.#address,
      done: Promise.resolve(),
    };
    link.done = this.#readLoop(link);
    return link;
  }

  async #readLoop(link: Link): Promise<void> {
    let failure: unknown;
    try {
      for (;;) {
        let v = await link.f.read();
        if (v === undefined) break;
        if (this.#framing === "content-length") {
          try {
            v = JSON.parse((v as Buffer).toString("utf8"));
          } catch {
            continue;
          }
        }
        for (const r of Array.isArray(v) ? v : [v]) this.#settle(link, checkResponse(r));
      }
    } catch (err) {
      failure = err;
    }
    this.#lost(link, failure);
  }

  #settle(link: Link, r: JsonRpcResponse | undefined): void {
    if (r === undefined) return;
    if (r.id === null) {
      // the server could not read a request (parse error, too large): it names none, so every
      // pending call gets the error (the server closes the connection after it)
      if ("error" in r) {
        const e = new RpcError(r.error.code, r.error.message, r.error.data);
        for (const p of link.pending.values()) p.reject(e);
        link.pending.clear();
      }
      return;
    }
    if (typeof r.id !== "number") return;
    const p = link.pending.get(r.id);
    if (p === undefined) return; // late (timed out) or unknown: ignored
    link.pending.delete(r.id);
    if ("error" in r) p.reject(new RpcError(r.error.code, r.error.message, r.error.data));
    else p.resolve(r.result);
  }

  #lost(link: Link, failure: unknown): void {
    link.closed = true;
    if (this.#link === link) this.#link = undefined;
    void link.stream.close?.().catch(() => {});
    for (const [id, p] of link.pending) {
      p.reject(
        failure instanceof OSError || failure instanceof RpcError
          ? failure
          : this.#closed
            ? makeOSError("EBADF", {
                op: "call",
                hint: `the client was closed before ${p.method} (id ${id}) was answered`,
              })
            : new ConnectionResetError("ECONNRESET", {
                op: "call",
                ...(link.address ? { address: link.address } : {}),
                hint:
                  failure === undefined
                    ? `the server closed the connection before answering ${p.method} (id ${id})`
                    : `the server's reply could not be read (${(failure as Error).message ?? String(failure)}); ${p.method} (id ${id}) was not answered`,
                ...(failure === undefined ? {} : { cause: failure }),
              }),
      );
    }
    link.pending.clear();
  }

  async #ready(): Promise<Link> {
    if (this.#closed) throw makeOSError("EBADF", { op: "call", hint: "the client is closed" });
    if (this.#link !== undefined && !this.#link.closed) return this.#link;
    if (this.#dial === undefined)
      throw new ConnectionResetError("ECONNRESET", {
        op: "call",
        ...(this.#address ? { address: this.#address } : {}),
        hint: "the connection to the server was lost; make a new client (or connect() with reconnect: true)",
      });
    this.#dialing ??= this.#dial()
      .then((s) => (this.#link = this.#attach(s)))
      .finally(() => (this.#dialing = undefined));
    return this.#dialing;
  }

  #write(link: Link, message: unknown): Promise<void> {
    const bytes = link.f.codec.encode(message);
    const p = link.writing.then(() => link.stream.write(bytes));
    link.writing = p.catch(() => {});
    return p.then(() => {});
  }

  /**
   * Calls `method` with `params` (an array: positional, an object: named) and resolves its
   * result; rejects {@link RpcError} when the server answers an error, TimeoutError after
   * `timeout` ms, InterruptedError when `signal` aborts, an OSError when the connection is lost.
   */
  async call<R = unknown>(method: string, params?: JsonRpcParams, opts: RpcCallOptions = {}): Promise<R> {
    if (typeof method !== "string") throw argTypeError("method", "a string", method);
    checkParams(params);
    const link = await this.#ready();
    const id = this.#nextId++;
    const timeout = checkInt("timeout", opts.timeout ?? this.#timeout, 0, 2 ** 31 - 1);
    const signal = opts.signal;
    if (signal?.aborted === true)
      throw new InterruptedError("EINTR", {
        op: "call",
        hint: `${method} was not sent: its signal was already aborted`,
        cause: signal.reason,
      });
    return new Promise<R>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const done = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
      };
      const onAbort = (): void => {
        link.pending.delete(id);
        done();
        reject(
          new InterruptedError("EINTR", {
            op: "call",
            hint: `${method} (id ${id}) was aborted by its signal`,
          }),
        );
      };
      link.pending.set(id, {
        method,
        resolve: (v) => {
          done();
          resolve(v as R);
        },
        reject: (e) => {
          done();
          reject(e);
        },
      });
      if (timeout > 0)
        timer = setTimeout(() => {
          link.pending.delete(id);
          done();
          reject(
            new TimeoutError("ETIMEDOUT", {
              op: "call",
              ...(link.address ? { address: link.address } : {}),
              hint: `no reply to ${method} (id ${id}) within ${timeout} ms; raise the timeout or check that the server is alive`,
            }),
          );
        }, timeout);
      signal?.addEventListener("abort", onAbort, { once: true });
      const msg =
        params === undefined ? { jsonrpc: "2.0", method, id } : { jsonrpc: "2.0", method, params, id };
      this.#write(link, msg).catch((err: unknown) => {
        if (!link.pending.has(id)) return;
        link.pending.delete(id);
        done();
        reject(err);
      });
    });
  }

  /** Sends a notification (no id, no reply); resolves once it is written. */
  async notify(method: string, params?: JsonRpcParams): Promise<void> {
    if (typeof method !== "string") throw argTypeError("method", "a string", method);
    checkParams(params);
    const link = await this.#ready();
    await this.#write(
      link,
      params === undefined ? { jsonrpc: "2.0", method } : { jsonrpc: "2.0", method, params },
    );
  }

  /**
   * Sends calls and notifications as one batch; resolves the outcome of each call in order
   * (an error answer is `{ ok: false, error }`, it does not reject the batch). An all-notification
   * batch resolves `[]` once written (the server sends nothing back).
   */
  async batch(items: readonly BatchItem[], opts: RpcCallOptions = {}): Promise<BatchResult[]> {
    if (!Array.isArray(items) || items.length === 0) throw argTypeError("items", "a non-empty array", items);
    for (const it of items) {
      if (typeof it?.method !== "string") throw argTypeError("items[].method", "a string", it?.method);
      checkParams(it.params, "items[].params");
    }
    if (opts.signal?.aborted === true)
      throw new InterruptedError("EINTR", {
        op: "call",
        hint: "the batch was not sent: its signal was already aborted",
        cause: opts.signal.reason,
      });
    const link = await this.#ready();
    const timeout = checkInt("timeout", opts.timeout ?? this.#timeout, 0, 2 ** 31 - 1);
    const waits: Promise<BatchResult>[] = [];
    const ids: number[] = [];
    const msg = items.map((it) => {
      const base =
        it.params === undefined
          ? { jsonrpc: "2.0", method: it.method }
          : { jsonrpc: "2.0", method: it.method, params: it.params };
      if (it.notify === true) return base;
      const id = this.#nextId++;
      ids.push(id);
      waits.push(
        new Promise<unknown>((resolve, reject) =>
          link.pending.set(id, { method: it.method, resolve, reject }),
        ).then(
          (result) => ({ ok: true as const, result }),
          (error: Error) => ({ ok: false as const, error }),
        ),
      );
      return { ...base, id };
    });
    let timer: NodeJS.Timeout | undefined;
    const giveUp = (e: Error): void => {
      for (const id of ids) link.pending.get(id)?.reject(e);
      for (const id of ids) link.pending.delete(id);
    };
    if (timeout > 0 && ids.length > 0)
      timer = setTimeout(
        () =>
          giveUp(
            new TimeoutError("ETIMEDOUT", {
              op: "call",
              hint: `no reply to the batch within ${timeout} ms; raise the timeout or check that the server is alive`,
            }),
          ),
        timeout,
      );
    const onAbort = (): void =>
      giveUp(new InterruptedError("EINTR", { op: "call", hint: "the batch was aborted by its signal" }));
    opts.signal?.addEventListener("abort", onAbort, { once: true });
    try {
      await this.#write(link, msg).catch((err: unknown) => {
        giveUp(err as Error);
        throw err;
      });
      return await Promise.all(waits);
    } finally {
      clearTimeout(timer);
      opts.signal?.removeEventListener("abort", onAbort);
    }
  }

  /**
   * A typed view: `client.proxy<Api>().add(1, 2)` is `client.call("add", [1, 2])`, with the
   * argument and result types of `Api`'s methods checked by the compiler.
   */
  proxy<Api>(opts: RpcCallOptions = {}): RpcProxy<Api> {
    return new Proxy({} as RpcProxy<Api>, {
      get: (_, name) =>
        typeof name !== "string" || name === "then"
          ? undefined
          : (...args: unknown[]) => this.call(name, args, opts),
    });
  }

  /**
   * Ends gracefully: half-closes (the server reads EOF, answers what is pending, then closes),
   * waits at most `ms` for the server to close, then closes. Pending calls still get their
   * answers if they come in time.
   */
  async end(ms = 1000): Promise<void> {
    const link = this.#link;
    if (link !== undefined && !link.closed) {
      await link.writing; // what was sent goes out before the FIN
      await link.stream.closeWrite?.().catch(() => {});
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([link.done, new Promise<void>((r) => (timer = setTimeout(r, ms)))]);
      clearTimeout(timer);
    }
    await this.close();
  }

  /** Closes the connection; pending calls reject EBADF. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    const link = this.#link;
    if (link === undefined) return;
    this.#lost(link, undefined);
    await link.stream.close?.();
  }

  /** `await using client = await connect(…)`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/**
 * Connects to a JSON-RPC server at `address` (`tcp://HOST:PORT`, `HOST:PORT`, `unix:/path`).
 * With `reconnect: true`, a call made after the connection was lost dials again (the calls
 * that were pending when it was lost still reject: the client cannot know whether they ran).
 *
 * @example
 * ```ts
 * import { connect } from "sockit/jsonrpc";
 * const client = await connect("tcp://127.0.0.1:7070");
 * console.log(await client.call("subtract", [42, 23])); // 19
 * await client.close();
 * // over TLS, trusting the server's certificate: connect("localhost:7443", { tls: { ca } })
 * ```
 */
export async function connect(address: string, opts: RpcClientOptions = {}): Promise<JsonRpcClient> {
  const at = parseRpcAddress(address);
  const connectTimeout = checkInt("connectTimeout", opts.connectTimeout ?? 10_000, 1, 2 ** 31 - 1);
  const open = (): Promise<RpcStream> =>
    dial(at.network, at.address, {
      timeout: connectTimeout,
      ...(opts.tls === undefined ? {} : { tls: opts.tls }),
    });
  const first = await open();
  return new JsonRpcClient(first, opts, opts.reconnect === true ? open : undefined, at.address);
}
