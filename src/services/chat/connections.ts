/**
 * The chat's connections: each one a {@link ChatSession} on a {@link Conn}, read line by line
 * through a {@link LineReader} (512-byte lines), paced by flood control (a token bucket: lines
 * over the rate wait, and the connection is not read meanwhile; too many held back:
 * `Excess Flood`), written through a bounded send queue (a client that does not read is dropped
 * with `SendQ exceeded` and the room keeps flowing), with the registration and ping timeouts.
 * `sockit serve chat` ({@link ChatServer}) and `sockit listen --chat` both serve their
 * connections with it; who may connect is decided before (the server's limits, listen's
 * `-m`/`--allow`/`--deny`).
 *
 * @module
 */
import { setMaxListeners } from "node:events";
import { type Conn, OSError, SendQueue } from "../../net/index.js";
import { TokenBucket } from "../rfc/ratelimit.js";
import type { ChatLimits } from "./limits.js";
import { LineReader } from "./protocol.js";
import { ChatSession, type SessionShared } from "./session.js";

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

/**
 * Options of {@link ChatConnections}.
 * @example `{ shared: { hub, motd: undefined, password: undefined }, limits: DEFAULT_CHAT_LIMITS }`
 */
export interface ConnectionsOptions {
  /** The hub and what every session shares. */
  readonly shared: SessionShared;
  /** Send queue, flood control and timeouts (maxClients/maxPerSource are the caller's). */
  readonly limits: ChatLimits;
  /** Flood control on (default true); `sockit listen --chat` turns it off, as netcat chats have none. */
  readonly flood?: boolean;
  /** Connections accepted and closed, for logs (`-v`). */
  readonly onEvent?: ((e: ChatEvent) => void) | undefined;
}

/**
 * How one connection is served.
 * @example `{ host: "127.0.0.1", peer: "127.0.0.1:50000", plain: true }`
 */
export interface ServeOptions {
  /** The client's address as its prefix shows it (`127.0.0.1`; `unix` for a Unix client). */
  readonly host: string;
  /** The client for logs (`127.0.0.1:50000`). */
  readonly peer: string;
  /**
   * A plain user from the start (greeted at once, put in `#lobby`), as `sockit listen --chat`
   * wants; otherwise the server talks first with a NOTICE and the client's first line decides.
   */
  readonly plain?: boolean;
}

/** How long a client dropped for its send queue has to take the goodbye line, ms. */
const SENDQ_GOODBYE_MS = 1000;

interface Client {
  readonly conn: Conn;
  readonly session: ChatSession;
  readonly outbox: SendQueue;
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
  done: Promise<string>;
}

/**
 * The connections of one chat hub.
 *
 * @example
 * ```ts
 * declare const ln: AsyncIterable<Parameters<ChatConnections["serve"]>[0]>; // a Listener
 * const hub = new ChatHub();
 * const shared = { hub, motd: undefined, password: undefined };
 * const conns = new ChatConnections({ shared, limits: DEFAULT_CHAT_LIMITS });
 * for await (const conn of ln) void conns.serve(conn, { host: "127.0.0.1", peer: conn.remoteAddress });
 * await conns.close("Server shutting down", 5000);
 * ```
 */
export class ChatConnections {
  readonly #opts: ConnectionsOptions;
  readonly #clients = new Set<Client>();
  readonly #stop = new AbortController();
  #dropped = 0;
  #peak = 0;

  /** No connections yet. */
  constructor(opts: ConnectionsOptions) {
    this.#opts = opts;
    setMaxListeners(0, this.#stop.signal);
  }

  /** Connections now. */
  get size(): number {
    return this.#clients.size;
  }

  /** Clients dropped for not reading (SendQ exceeded) and the most bytes one send queue held. */
  get stats(): { readonly dropped: number; readonly peakQueued: number } {
    let peak = this.#peak;
    for (const c of this.#clients) peak = Math.max(peak, c.outbox.peak);
    return { dropped: this.#dropped, peakQueued: peak };
  }

  /** Serves `conn` until it is done and closed; resolves why it ended (never rejects). */
  serve(conn: Conn, how: ServeOptions): Promise<string> {
    const limits = this.#opts.limits;
    conn.setNoDelay(true);
    conn.setKeepAlive(true, 60_000);
    const ref: { client?: Client } = {}; // the session's io needs the client, made just after it
    const outbox = new SendQueue(conn, limits.sendQueueBytes, { onError: () => conn.abort() });
    const session = new ChatSession(
      this.#opts.shared,
      {
        write: (s) => {
          if (!outbox.push(s) && !outbox.stopped) this.#sendqExceeded(ref.client!);
        },
        close: (why) => {
          ref.client!.ending ??= why;
          ref.client!.stopRead.abort();
        },
      },
      how.host,
    );
    const now = Date.now();
    const client: Client = {
      conn,
      session,
      outbox,
      peer: how.peer,
      since: now,
      lastInput: now,
      pinged: false,
      ending: undefined,
      goodbye: undefined,
      stopRead: new AbortController(),
      done: Promise.resolve(""),
    };
    ref.client = client;
    this.#clients.add(client);
    this.#opts.onEvent?.({ type: "accepted", peer: how.peer });
    if (how.plain) session.beginPlain();
    // IRC servers talk first; this also tells a person at nc how to start
    else
      outbox.push(
        `:${this.#opts.shared.hub.serverName} NOTICE * :*** sockit chat: IRC clients register now; ` +
          "typing a line (e.g. /nick NAME) joins #lobby as a plain-text user\r\n",
      );
    client.done = this.#run(client);
    return client.done;
  }

  /** Registration and ping timeouts: call it now and then (the server does, every ≤ 1 s). */
  sweep(): void {
    const now = Date.now();
    const limits = this.#opts.limits;
    for (const c of this.#clients) {
      if (c.ending !== undefined) continue;
      const s = c.session;
      if (!s.registered) {
        if (now - c.since >= limits.registrationMs) this.#end(c, "Registration timed out");
        continue;
      }
      if (s.kind === "plain") continue; // people at nc do not answer PING; TCP keepalive finds dead peers
      const idle = now - c.lastInput;
      if (!c.pinged && idle >= limits.pingMs) {
        c.pinged = true;
        s.deliver({ command: "PING", params: [this.#opts.shared.hub.serverName] });
      } else if (c.pinged && idle >= limits.pingMs + limits.pongMs) {
        this.#end(c, `Ping timeout: ${Math.round(idle / 1000)} seconds`);
      }
    }
  }

  /**
   * Tells every client (`ERROR :Closing Link: host (reason)`; plain users read
   * `*** Closing Link …`), gives them `graceMs` to read it, then cuts off the rest.
   */
  async close(reason: string, graceMs: number): Promise<void> {
    for (const c of this.#clients) this.#end(c, reason);
    const all = Promise.all([...this.#clients].map((c) => c.done));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([all, new Promise((r) => (timer = setTimeout(r, graceMs)))]);
    clearTimeout(timer);
    this.#stop.abort();
    for (const c of this.#clients) c.conn.abort();
    await all;
  }

  #sendqExceeded(c: Client): void {
    if (c.ending !== undefined && c.session.state === "closed") return;
    this.#dropped++;
    this.#peak = Math.max(this.#peak, c.outbox.peak);
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

  async #run(c: Client): Promise<string> {
    const { conn, session } = c;
    const limits = this.#opts.limits;
    const reader = new LineReader();
    const bucket =
      this.#opts.flood === false ? undefined : new TokenBucket(limits.floodRate, limits.floodBurst);
    const signal = AbortSignal.any([this.#stop.signal, c.stopRead.signal]);
    let reason = "Connection closed";
    try {
      reading: while (c.ending === undefined) {
        const b = await conn.read(undefined, { signal });
        if (b === null && session.kind !== "plain") break;
        c.lastInput = Date.now();
        c.pinged = false;
        // a plain user's last line counts without its newline
        const items = b === null ? reader.end() : reader.push(b);
        for (let i = 0; i < items.length; i++) {
          if (c.ending !== undefined) break reading;
          if (bucket !== undefined) {
            if (items.length - i > limits.floodMaxPending) {
              this.#end(c, "Excess Flood");
              break reading;
            }
            if (!bucket.take(performance.now())) {
              const wait = ((1 - bucket.tokens(performance.now())) / limits.floodRate) * 1000;
              await new Promise((r) => setTimeout(r, Math.max(1, Math.ceil(wait))));
              i--;
              continue;
            }
          }
          const item = items[i]!;
          if ("tooLong" in item) session.tooLong();
          else session.line(item.line);
        }
        if (b === null) break;
      }
    } catch (err) {
      reason = c.ending ?? (err instanceof OSError ? `Read error: ${err.code}` : "Connection closed");
    } finally {
      session.gone(c.ending ?? reason);
      if (c.goodbye !== undefined) await c.goodbye;
      else {
        // let the goodbye (and what is queued) go out, bounded, then close
        try {
          conn.setWriteDeadline(Date.now() + Math.max(100, limits.graceMs));
          await c.outbox.end();
          await conn.close();
        } catch {
          conn.abort();
        }
      }
      this.#clients.delete(c);
      this.#peak = Math.max(this.#peak, c.outbox.peak);
      this.#opts.onEvent?.({
        type: "closed",
        peer: c.peer,
        nick: session.nick === "*" ? undefined : session.nick,
        reason: c.ending ?? reason,
      });
    }
    return c.ending ?? reason;
  }
}
