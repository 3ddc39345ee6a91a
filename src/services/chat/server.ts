/**
 * The chat server: a {@link ChatHub} on a TCP listener. Per connection: a {@link LineReader}
 * (512-byte lines), flood control (a token bucket: lines over the rate wait, and the connection
 * is not read meanwhile; too many held back: `Excess Flood`), a bounded send queue (a client that
 * does not read is dropped with `SendQ exceeded` and the room keeps flowing), the registration
 * and ping timeouts; per server: the client limits and a graceful shutdown that tells everyone.
 *
 * @module
 */
import { setMaxListeners } from "node:events";
import { type Conn, type Listener, listen, OSError, type TLSOptions } from "../../net/index.js";
import { TokenBucket } from "../rfc/ratelimit.js";
import { sourceKey } from "../rfc/source.js";
import { ChatHub } from "./hub.js";
import { type ChatLimits, DEFAULT_CHAT_LIMITS } from "./limits.js";
import { LineReader } from "./protocol.js";
import { ChatSession, type SessionShared } from "./session.js";

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
 * What happened to a connection.
 * @example `{ type: "closed", peer: "127.0.0.1:50000", nick: "alice", reason: "Quit: bye" }`
 */
export interface ChatEvent {
  readonly type: "accepted" | "closed" | "refused";
  readonly peer: string;
  readonly nick?: string | undefined;
  readonly reason?: string | undefined;
}

/** How long a client dropped for its send queue has to take the goodbye line, ms. */
const SENDQ_GOODBYE_MS = 1000;

/**
 * The chat's default port (IRC).
 * @example `await serveChat({ port: DEFAULT_CHAT_PORT }) // 127.0.0.1:6667`
 */
export const DEFAULT_CHAT_PORT = 6667;

/**
 * A client's outgoing bytes, bounded: `push` past `limit` bytes returns false and queues nothing.
 * One writer task drains it, joining what is queued into one write.
 */
class Outbox {
  #items: string[] = [];
  #queued = 0;
  #running: Promise<void> | undefined;
  #dead = false;
  constructor(
    private readonly conn: Conn,
    private readonly limit: number,
    private readonly onError: () => void,
  ) {}

  get queued(): number {
    return this.#queued;
  }

  push(s: string): boolean {
    if (this.#dead) return true;
    if (this.#queued > 0 && this.#queued + s.length > this.limit) return false;
    this.#items.push(s);
    this.#queued += s.length;
    this.#running ??= this.#drain();
    return true;
  }

  stop(): void {
    this.#dead = true;
    this.#items = [];
    this.#queued = 0;
  }

  async end(): Promise<void> {
    while (this.#running !== undefined) await this.#running;
  }

  async #drain(): Promise<void> {
    try {
      while (!this.#dead && this.#items.length > 0) {
        const chunk = this.#items.join("");
        this.#items = [];
        try {
          await this.conn.write(Buffer.from(chunk, "latin1"));
        } catch {
          this.stop();
          this.onError();
          return;
        }
        if (!this.#dead) this.#queued -= chunk.length;
      }
    } finally {
      this.#running = undefined;
    }
  }
}

interface Client {
  readonly conn: Conn;
  readonly session: ChatSession;
  readonly outbox: Outbox;
  readonly source: string;
  readonly peer: string;
  readonly since: number;
  lastInput: number;
  pinged: boolean;
  /** Why the server ends it (set once). */
  ending: string | undefined;
  /** The goodbye of a client dropped for its send queue, under way. */
  goodbye: Promise<void> | undefined;
  /** Aborts the read in progress once the server ends the client. */
  readonly stopRead: AbortController;
  done: Promise<void>;
}

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
  readonly #shared: SessionShared;
  readonly #clients = new Set<Client>();
  readonly #perSource = new Map<string, number>();
  readonly #sweeper: NodeJS.Timeout;
  readonly #accepting: Promise<void>;
  readonly #stop = new AbortController();
  #closing: Promise<void> | undefined;

  /** @internal Made by {@link serveChat}. */
  constructor(ln: Listener, opts: ChatServerOptions, limits: ChatLimits) {
    this.#ln = ln;
    this.#opts = opts;
    this.limits = limits;
    this.hub =
      opts.hub ?? new ChatHub({ serverName: opts.serverName ?? "sockit", history: opts.history ?? 0 });
    this.#shared = { hub: this.hub, motd: opts.motd, password: opts.password };
    setMaxListeners(0, this.#stop.signal);
    const every = Math.max(
      20,
      Math.min(1000, limits.registrationMs / 4, limits.pingMs / 4, limits.pongMs / 4),
    );
    this.#sweeper = setInterval(() => this.#sweep(), every);
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
    return this.#clients.size;
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
      for (const c of this.#clients) this.#end(c, "Server shutting down");
      const all = Promise.all([...this.#clients].map((c) => c.done));
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([all, new Promise((r) => (timer = setTimeout(r, this.limits.graceMs)))]);
      clearTimeout(timer);
      this.#stop.abort();
      for (const c of this.#clients) c.conn.abort();
      await all;
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
      this.#clients.size >= this.limits.maxClients
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
    conn.setNoDelay(true);
    conn.setKeepAlive(true, 60_000);
    const ref: { client?: Client } = {}; // the session's io needs the client, made just after it
    const outbox = new Outbox(conn, this.limits.sendQueueBytes, () => conn.abort());
    const session = new ChatSession(
      this.#shared,
      {
        write: (s) => {
          if (!outbox.push(s)) this.#sendqExceeded(ref.client!);
        },
        close: (why) => {
          ref.client!.ending ??= why;
          ref.client!.stopRead.abort();
        },
      },
      address,
    );
    const now = Date.now();
    const client: Client = {
      conn,
      session,
      outbox,
      source,
      peer,
      since: now,
      lastInput: now,
      pinged: false,
      ending: undefined,
      goodbye: undefined,
      stopRead: new AbortController(),
      done: Promise.resolve(),
    };
    ref.client = client;
    this.#clients.add(client);
    this.#opts.onEvent?.({ type: "accepted", peer });
    // IRC servers talk first; this also tells a person at nc how to start
    outbox.push(
      `:${this.hub.serverName} NOTICE * :*** sockit chat: IRC clients register now; ` +
        "typing a line (e.g. /nick NAME) joins #lobby as a plain-text user\r\n",
    );
    client.done = this.#run(client);
  }

  #sendqExceeded(c: Client): void {
    if (c.ending !== undefined && c.session.state === "closed") return;
    c.outbox.stop();
    c.ending = "SendQ exceeded";
    c.stopRead.abort();
    c.session.gone("SendQ exceeded");
    // what was queued is dropped; the goodbye gets a short while to reach the kernel (if the
    // client reads again), then a FIN after it — or a reset, freeing the kernel's buffers now
    c.conn.setWriteDeadline(Date.now() + SENDQ_GOODBYE_MS);
    c.goodbye = c.outbox
      .end()
      .then(() => c.conn.write("ERROR :Closing Link (SendQ exceeded)\r\n"))
      .then(
        () => c.conn.close(),
        () => c.conn.abort(),
      )
      .catch(() => c.conn.abort())
      .then(() => {});
  }

  #end(c: Client, reason: string): void {
    if (c.session.state === "closed") {
      c.ending ??= reason;
      c.stopRead.abort();
      return;
    }
    c.session.end(reason);
  }

  async #run(c: Client): Promise<void> {
    const { conn, session } = c;
    const reader = new LineReader();
    const bucket = new TokenBucket(this.limits.floodRate, this.limits.floodBurst);
    const signal = AbortSignal.any([this.#stop.signal, c.stopRead.signal]);
    let reason = "Connection closed";
    try {
      reading: while (c.ending === undefined) {
        const b = await conn.read(undefined, { signal });
        if (b === null) break;
        c.lastInput = Date.now();
        c.pinged = false;
        const items = reader.push(b);
        for (let i = 0; i < items.length; i++) {
          if (c.ending !== undefined) break reading;
          if (items.length - i > this.limits.floodMaxPending) {
            this.#end(c, "Excess Flood");
            break reading;
          }
          if (!bucket.take(performance.now())) {
            const wait = ((1 - bucket.tokens(performance.now())) / this.limits.floodRate) * 1000;
            await new Promise((r) => setTimeout(r, Math.max(1, Math.ceil(wait))));
            i--;
            continue;
          }
          const item = items[i]!;
          if ("tooLong" in item) session.tooLong();
          else session.line(item.line);
        }
      }
    } catch (err) {
      reason = c.ending ?? (err instanceof OSError ? `Read error: ${err.code}` : "Connection closed");
    } finally {
      session.gone(c.ending ?? reason);
      if (c.goodbye !== undefined) await c.goodbye;
      else {
        // let the goodbye (and what is queued) go out, bounded, then close
        try {
          conn.setWriteDeadline(Date.now() + Math.max(100, this.limits.graceMs));
          await c.outbox.end();
          await conn.close();
        } catch {
          conn.abort();
        }
      }
      this.#clients.delete(c);
      const n = (this.#perSource.get(c.source) ?? 1) - 1;
      if (n <= 0) this.#perSource.delete(c.source);
      else this.#perSource.set(c.source, n);
      this.#opts.onEvent?.({
        type: "closed",
        peer: c.peer,
        nick: session.nick === "*" ? undefined : session.nick,
        reason: c.ending ?? reason,
      });
    }
  }

  #sweep(): void {
    const now = Date.now();
    for (const c of this.#clients) {
      if (c.ending !== undefined) continue;
      const s = c.session;
      if (!s.registered) {
        if (now - c.since >= this.limits.registrationMs) this.#end(c, "Registration timed out");
        continue;
      }
      if (s.kind === "plain") continue; // people at nc do not answer PING; TCP keepalive finds dead peers
      const idle = now - c.lastInput;
      if (!c.pinged && idle >= this.limits.pingMs) {
        c.pinged = true;
        s.deliver({ command: "PING", params: [this.hub.serverName] });
      } else if (c.pinged && idle >= this.limits.pingMs + this.limits.pongMs) {
        this.#end(c, `Ping timeout: ${Math.round(idle / 1000)} seconds`);
      }
    }
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
